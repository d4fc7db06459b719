// `baton artifacts`: what executions stored in the ledger — list, show, get, verify.
import { readFileSync, writeFileSync } from 'node:fs';
import { Command } from 'commander';
import {
  BatonError,
  Client,
  toMs,
  type Artifact,
  type ArtifactReader,
  type CodeVersion,
  type RunComparison,
  type SigningKey,
  type VerifyReport,
  type RunManifest,
} from '@baton/core';
import { table } from '../format.js';
import { withStore, type GlobalOptions, type Io } from '../context.js';
import { ExitCode } from './ta.js';

const DIGEST = /^sha256:[0-9a-f]{64}$/;

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

function producedBy(a: Artifact): string {
  const by =
    a.step === null ? `attempt ${a.attempt}` : `step '${a.step}' (#${a.position}), attempt ${a.attempt}`;
  return a.role === 'input' ? `read by ${by}` : by;
}

function artifactTable(list: Artifact[]): string {
  return table(
    ['NAME', 'SIZE', 'MEDIA TYPE', 'DIGEST', 'PUT BY'],
    list.map((a) => [a.name, size(a.size), a.mediaType, a.digest.slice(0, 19), producedBy(a)]),
  );
}

function artifactDetail(a: Artifact): string {
  return [
    `execution   ${a.execution}`,
    `name        ${a.name}`,
    `digest      ${a.digest}`,
    `size        ${a.size} bytes`,
    `media type  ${a.mediaType}`,
    `put by      ${producedBy(a)} at ${a.createdAt}`,
    `stored in   ${a.stored}`,
  ].join('\n');
}

/** `<digest>` or `<execution> <name>`: the reference `get` takes. */
function reference(first: string, name: string | undefined): string | { execution: string; name: string } {
  if (name !== undefined) return { execution: first, name };
  if (DIGEST.test(first)) return first;
  throw new BatonError(
    'E_INVALID_OPTION',
    `'${first}' is not a digest (sha256: and 64 hex digits); to name an artifact give the execution and the name: \`baton artifacts get <execution> <name>\``,
  );
}

const readable = (mediaType: string) =>
  /^text\/|[/+]json\b|^application\/(x-)?yaml\b|[/+]csv\b/.test(mediaType);

function codeText(code: CodeVersion | null): string {
  if (!code) return '(not recorded: the run never used the ledger)';
  if ('git' in code) return `git ${code.git.commit}${code.git.dirty ? ' (uncommitted changes)' : ''}`;
  if ('package' in code) return `${code.package.name}@${code.package.version}`;
  return `unknown: ${code.unknown}`;
}

function manifestText(m: RunManifest): string {
  const entries = (list: RunManifest['files']) =>
    list.length ? list.map((e) => `  ${e.name}  ${e.digest}  ${size(e.size)}`) : ['  (none)'];
  return [
    `execution   ${m.execution} (${m.kind} '${m.name}', ${m.status})`,
    `manifest    ${m.digest}`,
    `input       ${m.input}`,
    `code        ${codeText(m.code)}`,
    `config      ${m.configHash ?? '(none recorded)'}`,
    `seed        ${m.seed ?? '(none: not a workflow)'}`,
    `result      ${m.result ?? '(not completed)'}`,
    'files read:',
    ...entries(m.files),
    'outputs:',
    ...entries(m.outputs),
  ].join('\n');
}

function comparisonText(c: RunComparison): string {
  return [
    `${c.a.execution} vs ${c.b.execution}: ${c.verdict}`,
    ...(c.differences.length
      ? c.differences.map((d) => `  ${d}`)
      : ['  inputs, code, configuration and outputs are the same']),
  ].join('\n');
}

/** `baton runs compare`: two runs' manifests side by side; exit 1 when they are non-reproducible. */
export function runsCommand(globals: () => GlobalOptions, io: Io): Command {
  const runs = new Command('runs').description(
    'compare runs by their manifests (docs/ledger.md#run-manifests)',
  );
  runs
    .command('compare')
    .description(
      'same inputs, code and configuration with different outputs is non-reproducible (exit 1); prints every difference',
    )
    .argument('<a>', 'execution id')
    .argument('<b>', 'execution id')
    .option('--json', 'print JSON')
    .action((a: string, b: string, o: { json?: boolean }) =>
      withStore(globals(), async (store) => {
        const c = await new Client(store).artifacts.compare(a, b);
        io.out(o.json ? JSON.stringify(c, null, 2) : comparisonText(c));
        if (c.verdict === 'non-reproducible') throw new ExitCode(1);
      }),
    );
  return runs;
}

/** The environment variable holding the HMAC key that seals and checks run manifests. */
const HMAC_ENV = 'BATON_LEDGER_HMAC_KEY';

/** The sealing key: an ed25519 PEM file when given, else the HMAC secret in BATON_LEDGER_HMAC_KEY. */
function signingKey(o: { ed25519Key?: string; keyId?: string }): SigningKey | undefined {
  const id = o.keyId;
  if (o.ed25519Key) {
    let pem: string;
    try {
      pem = readFileSync(o.ed25519Key, 'utf8');
    } catch (err) {
      throw new BatonError(
        'E_NOT_FOUND',
        `cannot read the ed25519 key file ${o.ed25519Key}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      );
    }
    return { ed25519: pem, id };
  }
  const secret = process.env[HMAC_ENV];
  return secret ? { hmac: secret, id } : undefined;
}

function sealText(report: VerifyReport): string {
  const s = report.seal;
  if (!s) return 'not sealed';
  const by = `${s.algorithm}${s.keyId ? `, key '${s.keyId}'` : ''}`;
  return `sealed (${by}) at ${s.sealedAt}; ${s.signatureChecked ? 'signature checked' : `signature not checked (no key: set ${HMAC_ENV} or pass --ed25519-key)`}`;
}

export function artifactsCommand(globals: () => GlobalOptions, io: Io): Command {
  const artifacts = new Command('artifacts').description(
    'the artifacts ledger: what executions stored with ctx.artifacts.put (docs/ledger.md)',
  );
  const reader = (fn: (ledger: ArtifactReader) => Promise<void>) =>
    withStore(globals(), (store) => fn(new Client(store).artifacts));

  artifacts
    .command('list')
    .description("an execution's artifacts")
    .argument('<execution>', 'execution id')
    .option('--json', 'print JSON')
    .action((execution: string, o: { json?: boolean }) =>
      reader(async (ledger) => {
        const list = await ledger.list(execution);
        if (o.json) io.out(JSON.stringify(list, null, 2));
        else io.out(list.length ? artifactTable(list) : `execution ${execution} has no artifacts`);
      }),
    );

  artifacts
    .command('show')
    .description('one artifact: its digest, size, media type and what put it')
    .argument('<execution>', 'execution id')
    .argument('<name>', 'artifact name')
    .option('--json', 'print JSON')
    .action((execution: string, name: string, o: { json?: boolean }) =>
      reader(async (ledger) => {
        const a = await ledger.find(execution, name);
        io.out(o.json ? JSON.stringify(a, null, 2) : artifactDetail(a));
      }),
    );

  artifacts
    .command('get')
    .description(
      'the content of an artifact, by digest or by execution and name (checked against its digest)',
    )
    .argument('<digest-or-execution>', 'sha256:… digest, or an execution id followed by a name')
    .argument('[name]', 'artifact name, after an execution id')
    .option('-o, --output <file>', 'write the bytes to this file (needed for binary content)')
    .action((first: string, name: string | undefined, o: { output?: string }) =>
      reader(async (ledger) => {
        const content = await ledger.get(reference(first, name));
        if (o.output) {
          writeFileSync(o.output, content.bytes);
          io.out(`wrote ${content.size} bytes (${content.digest}) to ${o.output}`);
        } else if (readable(content.mediaType)) io.out(content.text());
        else
          throw new BatonError(
            'E_INVALID_OPTION',
            `the artifact is ${content.mediaType} (${content.size} bytes), not text: write it to a file with -o <file>`,
          );
      }),
    );

  artifacts
    .command('manifest')
    .description(
      "an execution's run manifest: input, files read, code, configuration, seed, outputs and result, as digests",
    )
    .argument('<execution>', 'execution id')
    .option('--json', 'print JSON')
    .action((execution: string, o: { json?: boolean }) =>
      reader(async (ledger) => {
        const m = await ledger.manifest(execution);
        io.out(o.json ? JSON.stringify(m, null, 2) : manifestText(m));
      }),
    );

  artifacts
    .command('diff')
    .description("what differs between two executions' files read and outputs, name by name")
    .argument('<a>', 'execution id')
    .argument('<b>', 'execution id')
    .action((a: string, b: string) =>
      reader(async (ledger) => {
        const c = await ledger.compare(a, b);
        const lines = c.differences.filter((d) => /^(input file|output) '/.test(d));
        io.out(lines.length ? lines.join('\n') : `${a} and ${b} read and put the same content`);
      }),
    );

  artifacts
    .command('collect')
    .description(
      'deletes the blobs no artifact names any more (after retention pruned their runs) and the blob directory files no row keeps',
    )
    .option(
      '--older-than <duration>',
      'only what was stored longer ago than this (a put writes its file first)',
      '1h',
    )
    .option('--dry-run', 'say what would go, delete nothing')
    .option('--json', 'print JSON')
    .action((o: { olderThan: string; dryRun?: boolean; json?: boolean }) =>
      reader(async (ledger) => {
        const report = await ledger.collect({
          olderThanMs: toMs(o.olderThan, '--older-than'),
          dryRun: o.dryRun,
        });
        if (o.json) io.out(JSON.stringify(report, null, 2));
        else
          io.out(
            `${report.dryRun ? 'would delete' : 'deleted'} ${report.rows} blob(s) no artifact names and ${report.files} file(s) no blob keeps: ${size(report.bytes)}`,
          );
      }),
    );

  artifacts
    .command('seal')
    .description(
      `signs the run manifest as it is now, with the HMAC secret in ${HMAC_ENV} or an ed25519 private key; verify then checks it`,
    )
    .argument('<execution>', 'execution id')
    .option('--ed25519-key <file>', 'PEM ed25519 private key (openssl genpkey -algorithm ed25519)')
    .option('--key-id <id>', 'a name for the key, recorded with the seal')
    .action((execution: string, o: { ed25519Key?: string; keyId?: string }) =>
      reader(async (ledger) => {
        const key = signingKey(o);
        if (!key)
          throw new BatonError(
            'E_INVALID_OPTION',
            `no sealing key: set ${HMAC_ENV} to a secret of 16 bytes or more, or pass --ed25519-key <file>`,
          );
        const seal = await ledger.seal(execution, key);
        io.out(`sealed ${execution}: manifest ${seal.manifest.digest} (${seal.signature.algorithm})`);
      }),
    );

  artifacts
    .command('verify')
    .description(
      `re-hashes every blob an execution's artifacts name and checks its seal (the signature too, with ${HMAC_ENV} or --ed25519-key); exits 1 on a problem`,
    )
    .argument('<execution>', 'execution id')
    .option('--ed25519-key <file>', 'PEM ed25519 public or private key to check the seal with')
    .option('--json', 'print JSON')
    .action((execution: string, o: { json?: boolean; ed25519Key?: string }) =>
      reader(async (ledger) => {
        const report = await ledger.verify(execution, { key: signingKey(o) });
        if (o.json) io.out(JSON.stringify(report, null, 2));
        else if (report.ok)
          io.out(
            `${report.checked} artifact(s) of ${execution} verified: every blob hashes to its digest; ${sealText(report)}`,
          );
        else
          io.out(
            [
              `${report.problems.length} of ${report.checked} artifact(s) of ${execution} failed verification:`,
              ...report.problems.map((p) => `  ${p.name} (${p.digest}): ${p.problem}`),
            ].join('\n'),
          );
        if (!report.ok) throw new ExitCode(1);
      }),
    );
  return artifacts;
}
