// The artifacts ledger: what executions produced, content-addressed (decision 0017). A blob is
// stored once per digest, in the database when small and in the blob directory when large; an
// artifact row names it for one execution, with the attempt and step that put it.
import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BatonError } from '../errors.js';
import type { Queryable } from '../driver/types.js';
import { checkArtifactName, contentOf, digestOf, type ArtifactData } from './content.js';

export interface ArtifactStoreOptions {
  /** Where blobs larger than `inlineMaxBytes` are kept. */
  readonly blobDir: string;
  /** The largest blob kept in the database. */
  readonly inlineMaxBytes: number;
}

/** Who puts an artifact: an execution's attempt, and for a workflow the step at its history position. */
export interface Producer {
  readonly execution: string;
  readonly attempt: number;
  readonly step?: string;
  readonly position?: number;
}

/** An artifact as the ledger records it. */
export interface Artifact {
  readonly execution: string;
  readonly name: string;
  /** `sha256:<hex>` of its bytes. */
  readonly digest: string;
  readonly size: number;
  readonly mediaType: string;
  readonly attempt: number;
  /** The workflow step that put it (null for a job or an activity). */
  readonly step: string | null;
  /** That step's position in the workflow's history. */
  readonly position: number | null;
  readonly createdAt: Date;
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
}

/** What `client.artifacts` offers: reading the ledger. */
export type ArtifactReader = Pick<ArtifactStore, 'get' | 'list' | 'find' | 'verify'>;

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
}

interface ArtifactRow {
  execution_id: string;
  name: string;
  digest: string;
  size: string | number;
  media_type: string;
  attempt: number;
  step: string | null;
  position: number | null;
  created_at: Date | string;
  inline: boolean;
}

const ARTIFACT_COLUMNS = `a.execution_id, a.name, a.digest, b.size, a.media_type, a.attempt, a.step, a.position,
  a.created_at, b.data IS NOT NULL AS inline`;

function toArtifact(r: ArtifactRow): Artifact {
  return {
    execution: r.execution_id,
    name: r.name,
    digest: r.digest,
    size: Number(r.size),
    mediaType: r.media_type,
    attempt: r.attempt,
    step: r.step,
    position: r.position,
    createdAt: new Date(r.created_at),
    stored: r.inline ? 'database' : 'blob directory',
  };
}

const DIGEST = /^sha256:[0-9a-f]{64}$/;

export class ArtifactStore {
  constructor(
    private readonly db: Queryable,
    readonly options: ArtifactStoreOptions,
  ) {}

  /** The writer `ctx.artifacts` hands to one attempt or step. */
  writer(producer: Producer): ArtifactWriter {
    return { put: (name, data, options) => this.put(producer, name, data, options) };
  }

  async put(
    producer: Producer,
    name: string,
    data: ArtifactData,
    options: { mediaType?: string } = {},
  ): Promise<Artifact> {
    checkArtifactName(name);
    const content = contentOf(data, name, options.mediaType);
    const size = content.bytes.length;
    const inline = size <= this.options.inlineMaxBytes;
    // the file first: a row never names a blob that is not there
    if (!inline) await this.writeBlobFile(content.digest, content.bytes);
    const [row] = await this.db.query<ArtifactRow>(
      `WITH blob AS (
         INSERT INTO baton.artifact_blobs (digest, size, data) VALUES ($1, $2, decode($3, 'base64'))
         ON CONFLICT (digest) DO NOTHING
       ), a AS (
         INSERT INTO baton.artifacts (execution_id, name, digest, media_type, attempt, step, position)
         VALUES ($4, $5, $1, $6, $7, $8, $9)
         ON CONFLICT (execution_id, name) DO UPDATE SET digest = EXCLUDED.digest,
           media_type = EXCLUDED.media_type, attempt = EXCLUDED.attempt, step = EXCLUDED.step,
           position = EXCLUDED.position, created_at = now()
         RETURNING *
       )
       SELECT a.execution_id, a.name, a.digest, $2::bigint AS size, a.media_type, a.attempt, a.step,
              a.position, a.created_at, $10::boolean AS inline
       FROM a`,
      [
        content.digest,
        size,
        inline ? content.bytes.toString('base64') : null,
        producer.execution,
        name,
        content.mediaType,
        producer.attempt,
        producer.step ?? null,
        producer.position ?? null,
        inline,
      ],
      'baton_artifact_put',
    );
    return toArtifact(row!);
  }

  /** Every artifact of an execution, by name. */
  async list(execution: string): Promise<Artifact[]> {
    const rows = await this.db.query<ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM baton.artifacts a JOIN baton.artifact_blobs b USING (digest)
       WHERE a.execution_id = $1 ORDER BY a.name`,
      [execution],
    );
    return rows.map(toArtifact);
  }

  /** The artifact an execution stored under `name`. */
  async find(execution: string, name: string): Promise<Artifact> {
    const [row] = await this.db.query<ArtifactRow>(
      `SELECT ${ARTIFACT_COLUMNS} FROM baton.artifacts a JOIN baton.artifact_blobs b USING (digest)
       WHERE a.execution_id = $1 AND a.name = $2`,
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

  /** Re-hashes every blob an execution's artifacts name and reports what does not match. */
  async verify(execution: string): Promise<VerifyReport> {
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
    return { execution, checked: artifacts.length, ok: problems.length === 0, problems };
  }

  private blobPath(digest: string): string {
    const hex = digest.slice('sha256:'.length);
    return join(this.options.blobDir, 'sha256', hex.slice(0, 2), hex);
  }

  private async writeBlobFile(digest: string, bytes: Buffer): Promise<void> {
    const path = this.blobPath(digest);
    const existing = await stat(path).catch(() => undefined);
    if (existing?.size === bytes.length) return;
    await mkdir(join(path, '..'), { recursive: true });
    // written aside and renamed, so a reader never sees half a blob
    const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(tmp, bytes);
    await rename(tmp, path);
  }

  private async readBlob(digest: string): Promise<Buffer> {
    const [row] = await this.db.query<{ data: string | null }>(
      `SELECT encode(data, 'base64') AS data FROM baton.artifact_blobs WHERE digest = $1`,
      [digest],
    );
    if (!row) throw new BatonError('E_NOT_FOUND', `no artifact has the digest ${digest}`);
    if (row.data !== null) return Buffer.from(row.data, 'base64');
    const path = this.blobPath(digest);
    try {
      return await readFile(path);
    } catch (err) {
      throw new BatonError(
        'E_NOT_FOUND',
        `the blob of ${digest} is not at ${path}: it is kept in the blob directory of the process that stored it; point BATON_BLOB_DIR at that directory`,
        { cause: err },
      );
    }
  }
}
