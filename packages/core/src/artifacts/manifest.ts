// Run manifests: what an execution read, what code and configuration it ran with, and what it
// produced, each as a digest, so that two runs can be compared for reproducibility.
import { BatonError } from '../errors.js';
import type { Queryable } from '../driver/types.js';
import { canonicalJson, digestOf } from './content.js';
import type { CodeVersion } from './code-version.js';
import type { Artifact } from './ledger.js';

export interface ManifestEntry {
  readonly name: string;
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
}

/** The reproducibility record of one execution (docs/ledger.md#run-manifests). */
export interface RunManifest {
  readonly execution: string;
  readonly name: string;
  readonly kind: string;
  readonly status: string;
  /** The digest of the execution's input, as canonical JSON. */
  readonly input: string;
  /** Files it declared it read (`ctx.artifacts.input`), by path. */
  readonly files: readonly ManifestEntry[];
  /** The code that ran its latest attempt to use the ledger; null when it never used it. */
  readonly code: CodeVersion | null;
  readonly configHash: string | null;
  /** A workflow's PRNG seed; null for a job. */
  readonly seed: string | null;
  /** What it put, by name. */
  readonly outputs: readonly ManifestEntry[];
  /** The digest of its result, as canonical JSON; null until it completed. */
  readonly result: string | null;
  /** The digest of this manifest without this field: equal manifests, equal digests. */
  readonly digest: string;
}

export interface RunComparison {
  readonly a: RunManifest;
  readonly b: RunManifest;
  readonly sameInputs: boolean;
  /**
   * True for the same clean commit (or the same package version), false for different ones, null
   * when it cannot be told (a dirty tree, or a run that never used the ledger).
   */
  readonly sameCode: boolean | null;
  readonly sameConfig: boolean;
  readonly sameOutputs: boolean;
  /** `non-reproducible`: same inputs, code and configuration, different outputs. */
  readonly verdict:
    'reproduced' | 'non-reproducible' | 'different inputs, code or configuration' | 'undetermined';
  readonly differences: readonly string[];
}

interface ExecutionRow {
  name: string;
  kind: string;
  status: string;
  input: unknown;
  output: unknown;
}

interface ContextRow {
  code: CodeVersion;
  config_hash: string | null;
  seed: string | null;
}

const entry = (a: Artifact): ManifestEntry => ({
  name: a.name,
  digest: a.digest,
  size: a.size,
  mediaType: a.mediaType,
});

const jsonDigest = (value: unknown, where: string) =>
  digestOf(Buffer.from(canonicalJson(value, where), 'utf8'));

export async function runManifest(
  db: Queryable,
  execution: string,
  artifacts: Artifact[],
): Promise<RunManifest> {
  const [row] = await db.query<ExecutionRow>(
    'SELECT name, kind, status, input, output FROM baton.executions WHERE id = $1',
    [execution],
  );
  if (!row)
    throw new BatonError(
      'E_NOT_FOUND',
      `no execution with id '${execution}' (a pruned execution has no manifest); list them with \`baton jobs list\``,
    );
  const [context] = await db.query<ContextRow>(
    'SELECT code, config_hash, seed FROM baton.run_contexts WHERE execution_id = $1',
    [execution],
  );
  const body = {
    execution,
    name: row.name,
    kind: row.kind,
    status: row.status,
    input: jsonDigest(row.input ?? null, `input of ${execution}`),
    files: artifacts.filter((a) => a.role === 'input').map(entry),
    code: context?.code ?? null,
    configHash: context?.config_hash ?? null,
    seed: context?.seed ?? null,
    outputs: artifacts.filter((a) => a.role === 'output').map(entry),
    result: row.status === 'completed' ? jsonDigest(row.output ?? null, `result of ${execution}`) : null,
  };
  return { ...body, digest: jsonDigest(body, `manifest of ${execution}`) };
}

function sameCode(a: CodeVersion | null, b: CodeVersion | null): boolean | null {
  if (!a || !b) return null;
  if ('git' in a && 'git' in b) {
    if (a.git.commit !== b.git.commit) return false;
    return a.git.dirty || b.git.dirty ? null : true;
  }
  if ('package' in a && 'package' in b)
    return a.package.name === b.package.name && a.package.version === b.package.version;
  return 'unknown' in a || 'unknown' in b ? null : false;
}

const digests = (entries: readonly ManifestEntry[]) => new Map(entries.map((e) => [e.name, e.digest]));

function entryDifferences(kind: string, a: readonly ManifestEntry[], b: readonly ManifestEntry[]): string[] {
  const da = digests(a);
  const db = digests(b);
  const out: string[] = [];
  for (const [name, d] of da) {
    if (!db.has(name)) out.push(`${kind} '${name}' only in the first run`);
    else if (db.get(name) !== d)
      out.push(`${kind} '${name}' differs (${d.slice(0, 19)} vs ${db.get(name)!.slice(0, 19)})`);
  }
  for (const name of db.keys()) if (!da.has(name)) out.push(`${kind} '${name}' only in the second run`);
  return out;
}

/** Compares two runs: same inputs, code and configuration with different outputs is non-reproducible. */
export function compareManifests(a: RunManifest, b: RunManifest): RunComparison {
  const differences: string[] = [];
  if (a.name !== b.name)
    differences.push(`different ${a.kind === b.kind ? a.kind : 'execution'}s: '${a.name}' and '${b.name}'`);
  if (a.input !== b.input) differences.push('the inputs differ');
  differences.push(...entryDifferences('input file', a.files, b.files));
  const code = sameCode(a.code, b.code);
  if (code === false) differences.push('the code differs');
  if (code === null)
    differences.push('the code cannot be compared (a dirty tree, or a run that never used the ledger)');
  const sameConfig = a.configHash === b.configHash;
  if (!sameConfig) differences.push('the configuration differs');
  // Informational: a workflow's seed is its id, so two runs always differ here; only outputs that
  // depend on ctx.random or ctx.uuid can differ because of it.
  if (a.seed !== null && b.seed !== null && a.seed !== b.seed)
    differences.push('the PRNG seeds differ (outputs drawn from ctx.random or ctx.uuid may differ)');
  const outputDiffs = entryDifferences('output', a.outputs, b.outputs);
  if (a.result !== b.result) outputDiffs.push('the results differ');
  differences.push(...outputDiffs);
  const sameInputs =
    a.name === b.name && a.input === b.input && entryDifferences('', a.files, b.files).length === 0;
  const sameOutputs = outputDiffs.length === 0;
  const verdict =
    !sameInputs || code === false || !sameConfig
      ? 'different inputs, code or configuration'
      : code === null
        ? 'undetermined'
        : sameOutputs
          ? 'reproduced'
          : 'non-reproducible';
  return { a, b, sameInputs, sameCode: code, sameConfig, sameOutputs, verdict, differences };
}
