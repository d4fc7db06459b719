// The artifacts ledger: what executions produced, content-addressed (decision 0017). A blob is
// stored once per digest, in the database when small and in the blob directory when large; an
// artifact row names it for one execution, with the attempt and step that put it.
import { BatonError } from '../errors.js';
import type { Driver } from '../driver/types.js';
import { readBlobFile, writeBlobFile } from './blob-files.js';
import { readInputFile } from './input-files.js';
import { collectBlobs, type CollectOptions, type CollectReport } from './collect.js';
import {
  checkArtifactName,
  contentOf,
  digestOf,
  fileContent,
  sortedJson,
  type ArtifactContent,
  type ArtifactData,
} from './content.js';
import { processCodeVersion, type CodeVersion } from './code-version.js';
import { compareManifests, runManifest, type RunComparison, type RunManifest } from './manifest.js';
import { checkSignature, signDigest, type SealAlgorithm, type Signature, type SigningKey } from './seal.js';

export interface ArtifactStoreOptions {
  /** Where blobs larger than `inlineMaxBytes` are kept. */
  readonly blobDir: string;
  /** The largest blob kept in the database. */
  readonly inlineMaxBytes: number;
  /** The hash of the configuration this process runs under, for run manifests. */
  readonly configHash?: string;
  /** This process's code version (default: read from the working directory once). */
  readonly codeVersion?: () => CodeVersion | Promise<CodeVersion>;
}

/** Who puts an artifact: an execution's attempt, and for a workflow the step at its history position. */
export interface Producer {
  readonly execution: string;
  readonly attempt: number;
  readonly step?: string;
  readonly position?: number;
  /** A workflow's PRNG seed (ctx.random), for its run manifest. */
  readonly seed?: string;
}

/** An output the execution put, or an input file it declared it read. */
export type ArtifactRole = 'input' | 'output';

/** An artifact as the ledger records it. */
export interface Artifact {
  readonly execution: string;
  /** Its name; for an input, the path it was read from. */
  readonly name: string;
  readonly role: ArtifactRole;
  /** `sha256:<hex>` of its bytes. */
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly attempt: number;
  /** The workflow step that put it (null for a job or an activity). */
  readonly step: string | null;
  /** That step's position in the workflow's history. */
  readonly position: number | null;
  /** When it was put, ISO 8601: an artifact is plain JSON, so a step can return it. */
  readonly createdAt: string;
  /** Where its blob lives. */
  readonly stored: 'database' | 'blob directory';
}

/** An artifact's content, as read back. */
export interface ArtifactContentRead {
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly bytes: Buffer;
  text(): string;
  json(): unknown;
}

/** What `ctx.artifacts` offers inside a job, activity or step. */
export interface ArtifactWriter {
  /**
   * Stores `data` (bytes, text or a JSON value) as this execution's artifact `name` and returns
   * it. The same content is stored once however often it is put; putting `name` again (a retry)
   * replaces what the name points at.
   */
  put(name: string, data: ArtifactData, options?: { mediaType?: string }): Promise<Artifact>;
  /**
   * Several `put`s in one statement (one round trip); results in the order given. Names must
   * differ. A stale attempt is refused as `put` refuses it.
   */
  putMany(items: readonly { name: string; data: ArtifactData; mediaType?: string }[]): Promise<Artifact[]>;
  /**
   * Declares that this execution read the file at `path`: its content is stored and its digest
   * goes in the run manifest's inputs, so two runs can be seen to have read the same data.
   */
  input(path: string, options?: { mediaType?: string }): Promise<Artifact>;
  /**
   * `input`, and the bytes it read: the run then works on exactly the content whose digest the
   * ledger records, even if the file changes meanwhile.
   */
  read(path: string, options?: { mediaType?: string }): Promise<{ artifact: Artifact; bytes: Buffer }>;
  /**
   * Several `read`s in one statement (one round trip); results in the order given. Each file may
   * be given once.
   */
  readMany(
    files: readonly { path: string; mediaType?: string }[],
  ): Promise<{ artifact: Artifact; bytes: Buffer }[]>;
}

/** What `client.artifacts` offers: reading the ledger. */
export type ArtifactReader = Pick<
  ArtifactStore,
  'get' | 'list' | 'find' | 'verify' | 'manifest' | 'compare' | 'seal' | 'collect'
>;

/** One artifact `verify` found wrong. */
export interface ArtifactProblem {
  readonly name: string;
  readonly digest: string;
  readonly problem: string;
}

export interface VerifyReport {
  readonly execution: string;
  readonly checked: number;
  readonly ok: boolean;
  readonly problems: readonly ArtifactProblem[];
  /** The run's seal, if it was sealed; `signatureChecked` when a key was given to check it with. */
  readonly seal: {
    readonly algorithm: SealAlgorithm;
    readonly keyId: string | null;
    readonly sealedAt: string;
    readonly signatureChecked: boolean;
  } | null;
}

/** A sealed manifest. */
export interface Seal {
  readonly manifest: RunManifest;
  readonly signature: Signature;
}

interface SealRow {
  manifest: RunManifest;
  digest: string;
  algorithm: SealAlgorithm;
  key_id: string | null;
  signature: string;
  sealed_at: Date | string;
}

interface ArtifactRow {
  execution_id: string;
  name: string;
  role: ArtifactRole;
  digest: string;
  size: string | number;
  media_type: string;
  attempt: number;
  step: string | null;
  position: number | null;
  created_at: Date | string;
  inline: boolean;
}

const ARTIFACT_COLUMNS = `a.execution_id, a.name, a.role, a.digest, b.size, a.media_type, a.attempt, a.step, a.position,
  a.created_at, b.data IS NOT NULL AS inline`;

function toArtifact(r: ArtifactRow): Artifact {
  return {
    execution: r.execution_id,
    name: r.name,
    role: r.role,
    digest: r.digest,
    size: Number(r.size),
    mediaType: r.media_type,
    attempt: r.attempt,
    step: r.step,
    position: r.position,
    createdAt: new Date(r.created_at).toISOString(),
    stored: r.inline ? 'database' : 'blob directory',
  };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export class ArtifactStore {
  constructor(
    private readonly db: Driver,
    readonly options: ArtifactStoreOptions,
  ) {}

  /** The writer `ctx.artifacts` hands to one attempt or step. */
  writer(producer: Producer): ArtifactWriter {
    return {
      put: (name, data, options) => this.put(producer, name, data, options),
      putMany: (items) => this.putMany(producer, items),
      input: async (path, options) => (await this.input(producer, path, options)).artifact,
      read: (path, options) => this.input(producer, path, options),
      readMany: (files) => this.inputs(producer, files),
    };
  }

  async put(
    producer: Producer,
    name: string,
    data: ArtifactData,
    options: { mediaType?: string } = {},
  ): Promise<Artifact> {
    checkArtifactName(name);
    return this.store(producer, name, 'output', contentOf(data, name, options.mediaType));
  }

  /** Stores several outputs in one statement (see ArtifactWriter.putMany). */
  async putMany(
    producer: Producer,
    items: readonly { name: string; data: ArtifactData; mediaType?: string }[],
  ): Promise<Artifact[]> {
    const seen = new Set<string>();
    const entries = items.map((item) => {
      checkArtifactName(item.name);
      if (seen.has(item.name)) {
        throw new BatonError(
          'E_INVALID_OPTION',
          `putMany: artifact '${item.name}' is given twice; give each name once`,
        );
      }
      seen.add(item.name);
      return {
        name: item.name,
        role: 'output' as const,
        content: contentOf(item.data, item.name, item.mediaType),
      };
    });
    return entries.length === 0 ? [] : this.storeMany(producer, entries);
  }

  /** Stores the file at `path` as an input the execution declared it read (see ArtifactWriter.input). */
  async input(
    producer: Producer,
    path: string,
    options: { mediaType?: string } = {},
  ): Promise<{ artifact: Artifact; bytes: Buffer }> {
    const [read] = await this.inputs(producer, [{ path, mediaType: options.mediaType }]);
    return read!;
  }

  /** Stores several input files in one statement (see ArtifactWriter.readMany). */
  async inputs(
    producer: Producer,
    files: readonly { path: string; mediaType?: string }[],
  ): Promise<{ artifact: Artifact; bytes: Buffer }[]> {
    const read = await Promise.all(files.map((f) => readInputFile(f.path)));
    const seen = new Set<string>();
    for (const [k, r] of read.entries()) {
      if (seen.has(r.name)) {
        throw new BatonError(
          'E_INVALID_OPTION',
          `readMany: input file ${files[k]!.path} is given twice (as ${r.name}); give each file once`,
        );
      }
      seen.add(r.name);
    }
    if (read.length === 0) return [];
    const artifacts = await this.storeMany(
      producer,
      read.map((r, k) => ({
        name: r.name,
        role: 'input' as const,
        content: fileContent(r, files[k]!.mediaType),
      })),
    );
    return artifacts.map((artifact, k) => ({ artifact, bytes: read[k]!.bytes }));
  }

  private async store(
    producer: Producer,
    name: string,
    role: ArtifactRole,
    content: ArtifactContent,
  ): Promise<Artifact> {
    const [artifact] = await this.storeMany(producer, [{ name, role, content }]);
    return artifact!;
  }

  /** Stores artifacts of one producer in one statement: blobs once each, the run context, the names. */
  private async storeMany(
    producer: Producer,
    items: readonly { name: string; role: ArtifactRole; content: ArtifactContent }[],
  ): Promise<Artifact[]> {
    const inline = items.map((i) => i.content.bytes.length <= this.options.inlineMaxBytes);
    // the files first: a row never names a blob that is not there
    for (const [k, i] of items.entries())
      if (!inline[k]) await writeBlobFile(this.options.blobDir, i.content.digest, i.content.bytes);
    const rows = await this.db.query<ArtifactRow>(
      `WITH item AS (
         SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::text[], $6::text[], $7::boolean[])
           AS i(digest, size, data, name, media_type, role, inline)
       ), blob AS (
         INSERT INTO baton.artifact_blobs (digest, size, data)
         SELECT DISTINCT ON (digest) digest, size, decode(data, 'base64') FROM item ORDER BY digest, data NULLS LAST
         -- content first stored in a blob directory moves into the database when it fits there now
         ON CONFLICT (digest) DO UPDATE SET data = EXCLUDED.data
           WHERE artifact_blobs.data IS NULL AND EXCLUDED.data IS NOT NULL
       ), context AS (
         INSERT INTO baton.run_contexts (execution_id, attempt, code, config_hash, seed)
         VALUES ($8, $9, $12::jsonb, $13, $14)
         ON CONFLICT (execution_id) DO UPDATE SET attempt = EXCLUDED.attempt, code = EXCLUDED.code,
           config_hash = EXCLUDED.config_hash, seed = EXCLUDED.seed, created_at = now()
         -- written again only when what it records changed
         WHERE (run_contexts.attempt, run_contexts.code, run_contexts.config_hash, run_contexts.seed)
           IS DISTINCT FROM (EXCLUDED.attempt, EXCLUDED.code, EXCLUDED.config_hash, EXCLUDED.seed)
       ), a AS (
         INSERT INTO baton.artifacts (execution_id, name, role, digest, media_type, attempt, step, position)
         SELECT $8, name, role, digest, media_type, $9, $10, $11 FROM item
         ON CONFLICT (execution_id, role, name) DO UPDATE SET digest = EXCLUDED.digest,
           media_type = EXCLUDED.media_type, attempt = EXCLUDED.attempt, step = EXCLUDED.step,
           position = EXCLUDED.position, created_at = now()
         -- an attempt that outlived its retry (a step that timed out, a job whose lease expired)
         -- does not replace what the later attempt of the same step (or job) put
         WHERE artifacts.attempt <= EXCLUDED.attempt OR artifacts.position IS DISTINCT FROM EXCLUDED.position
         RETURNING *
       )
       SELECT a.execution_id, a.name, a.role, a.digest, i.size, a.media_type, a.attempt,
              a.step, a.position, a.created_at,
              i.inline OR EXISTS (SELECT 1 FROM baton.artifact_blobs b WHERE b.digest = a.digest AND b.data IS NOT NULL)
                AS inline
       FROM a JOIN item i ON i.name = a.name AND i.role = a.role`,
      [
        items.map((i) => i.content.digest),
        items.map((i) => i.content.bytes.length),
        items.map((i, k) => (inline[k] ? i.content.bytes.toString('base64') : null)),
        items.map((i) => i.name),
        items.map((i) => i.content.mediaType),
        items.map((i) => i.role),
        inline,
        producer.execution,
        producer.attempt,
        producer.step ?? null,
        producer.position ?? null,
        JSON.stringify(await (this.options.codeVersion ?? processCodeVersion)()),
        this.options.configHash ?? null,
        producer.seed ?? null,
      ],
      'baton_artifact_put',
    );
    const byName = new Map(rows.map((r) => [`${r.role}\0${r.name}`, r]));
    return items.map((i) => {
      const row = byName.get(`${i.role}\0${i.name}`);
      if (!row)
        throw new BatonError(
          'E_LEASE_EXPIRED',
          `artifact '${i.name}' of ${producer.execution} was not recorded: a later attempt than this one (${producer.attempt}) already put it`,
        );
      return toArtifact(row);
    });
  }

  /** Every artifact of an execution: its outputs by name, then the inputs it declared. */
  async list(execution: string): Promise<Artifact[]> {
    const rows = await this.db.query<ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM baton.artifacts a JOIN baton.artifact_blobs b USING (digest)
       WHERE a.execution_id = $1 ORDER BY a.role DESC, a.name`,
      [execution],
    );
    return rows.map(toArtifact);
  }

  /** The artifact an execution stored under `name` (an output; else an input read from that path). */
  async find(execution: string, name: string): Promise<Artifact> {
    const [row] = await this.db.query<ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM baton.artifacts a JOIN baton.artifact_blobs b USING (digest)
       WHERE a.execution_id = $1 AND a.name = $2 ORDER BY a.role DESC LIMIT 1`,
      [execution, name],
    );
    if (!row) {
      const names = (await this.list(execution)).map((a) => a.name);
      throw new BatonError(
        'E_NOT_FOUND',
        `execution ${execution} has no artifact '${name}'` +
          (names.length
            ? `; it has: ${names.join(', ')}`
            : '; it has none (`baton artifacts list <execution>`)'),
      );
    }
    return toArtifact(row);
  }

  /**
   * An artifact's content, by digest (`sha256:<hex>`) or by execution and name. The bytes are
   * checked against the digest as they are read.
   */
  async get(ref: string | { execution: string; name: string }): Promise<ArtifactContentRead> {
    let digest: string;
    let mediaType: string;
    if (typeof ref === 'string') {
      if (!DIGEST.test(ref))
        throw new BatonError(
          'E_INVALID_OPTION',
          `'${ref}' is not an artifact digest: expected sha256: and 64 hex digits, or { execution, name }`,
        );
      digest = ref;
      const [row] = await this.db.query<{ media_type: string }>(
        'SELECT media_type FROM baton.artifacts WHERE digest = $1 LIMIT 1',
        [digest],
      );
      mediaType = row?.media_type ?? 'application/octet-stream';
    } else {
      const a = await this.find(ref.execution, ref.name);
      digest = a.digest;
      mediaType = a.mediaType;
    }
    const bytes = await this.readBlob(digest);
    if (digestOf(bytes) !== digest)
      throw new BatonError(
        'E_INVALID_STATE',
        `the stored bytes of ${digest} no longer hash to it: the blob was changed after it was stored (\`baton artifacts verify\`)`,
      );
    return {
      digest,
      size: bytes.length,
      mediaType,
      bytes,
      text: () => bytes.toString('utf8'),
      json: () => JSON.parse(bytes.toString('utf8')) as unknown,
    };
  }

  /**
   * Deletes the blobs no artifact names any more (after retention pruned their executions), and
   * the files of the blob directory no blob row keeps; only those older than `olderThanMs`.
   */
  collect(options: CollectOptions = {}): Promise<CollectReport> {
    return collectBlobs(this.db, this.options.blobDir, options);
  }

  /** The execution's run manifest: input, files read, code, configuration, seed, outputs, result. */
  async manifest(execution: string): Promise<RunManifest> {
    return runManifest(this.db, execution, await this.list(execution));
  }

  /** Compares two runs' manifests (see RunComparison's verdict). */
  async compare(a: string, b: string): Promise<RunComparison> {
    const [ma, mb] = await Promise.all([this.manifest(a), this.manifest(b)]);
    return compareManifests(ma, mb);
  }

  /**
   * Seals the execution's manifest as it is now: signs its digest with `key` and stores both.
   * Sealing again (after a retry, say) replaces the seal.
   */
  async seal(execution: string, key: SigningKey): Promise<Seal> {
    const manifest = await this.manifest(execution);
    const signature = signDigest(manifest.digest, key);
    await this.db.query(
      `INSERT INTO baton.run_seals (execution_id, manifest, digest, algorithm, key_id, signature)
       VALUES ($1, $2::jsonb, $3, $4, $5, $6)
       ON CONFLICT (execution_id) DO UPDATE SET manifest = EXCLUDED.manifest, digest = EXCLUDED.digest,
         algorithm = EXCLUDED.algorithm, key_id = EXCLUDED.key_id, signature = EXCLUDED.signature,
         sealed_at = now()`,
      [
        execution,
        JSON.stringify(manifest),
        manifest.digest,
        signature.algorithm,
        signature.keyId,
        signature.value,
      ],
    );
    return { manifest, signature };
  }

  /**
   * Re-hashes every blob an execution's artifacts name and reports what does not match. A sealed
   * run's manifest is assembled again and compared with the sealed one; with `key`, the seal's
   * signature is checked too (and a run that was never sealed is a problem).
   */
  async verify(execution: string, options: { key?: SigningKey } = {}): Promise<VerifyReport> {
    const artifacts = await this.list(execution);
    const problems: ArtifactProblem[] = [];
    for (const a of artifacts) {
      let problem: string | undefined;
      try {
        const bytes = await this.readBlob(a.digest);
        const actual = digestOf(bytes);
        if (bytes.length !== a.size) problem = `size ${bytes.length} bytes, recorded ${a.size}`;
        else if (actual !== a.digest) problem = `content hashes to ${actual}`;
      } catch (err) {
        problem = (err as Error).message;
      }
      if (problem) problems.push({ name: a.name, digest: a.digest, problem });
    }
    const seal = await this.checkSeal(execution, options.key, problems);
    return { execution, checked: artifacts.length, ok: problems.length === 0, problems, seal };
  }

  private async checkSeal(
    execution: string,
    key: SigningKey | undefined,
    problems: ArtifactProblem[],
  ): Promise<VerifyReport['seal']> {
    const [row] = await this.db.query<SealRow>(
      'SELECT manifest, digest, algorithm, key_id, signature, sealed_at FROM baton.run_seals WHERE execution_id = $1',
      [execution],
    );
    if (!row) {
      if (key)
        problems.push({
          name: '(seal)',
          digest: '',
          problem: 'the run was never sealed (`baton artifacts seal`)',
        });
      return null;
    }
    const now = await this.manifest(execution).catch(() => undefined);
    if (!now)
      problems.push({ name: '(seal)', digest: row.digest, problem: 'the sealed execution no longer exists' });
    else if (now.digest !== row.digest) {
      const fields = (Object.keys(now) as (keyof RunManifest)[]).filter(
        (k) => k !== 'digest' && sortedJson(now[k]) !== sortedJson(row.manifest[k]),
      );
      problems.push({
        name: '(seal)',
        digest: row.digest,
        problem: `the manifest changed since it was sealed (${fields.join(', ')}); now ${now.digest}`,
      });
    }
    const signature: Signature = { algorithm: row.algorithm, keyId: row.key_id, value: row.signature };
    if (key) {
      const bad = checkSignature(row.digest, signature, key);
      if (bad) problems.push({ name: '(seal)', digest: row.digest, problem: bad });
    }
    return {
      algorithm: row.algorithm,
      keyId: row.key_id,
      sealedAt: new Date(row.sealed_at).toISOString(),
      signatureChecked: key !== undefined,
    };
  }

  private async readBlob(digest: string): Promise<Buffer> {
    const [row] = await this.db.query<{ data: string | null }>(
      `SELECT encode(data, 'base64') AS data FROM baton.artifact_blobs WHERE digest = $1`,
      [digest],
    );
    if (!row) throw new BatonError('E_NOT_FOUND', `no artifact has the digest ${digest}`);
    if (row.data !== null) return Buffer.from(row.data, 'base64');
    return readBlobFile(this.options.blobDir, digest);
  }
}
