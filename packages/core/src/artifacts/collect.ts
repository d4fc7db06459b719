// Collecting blobs no artifact names any more (after retention pruned their executions): their
// rows, then the files of the blob directory that no row keeps there. A put that names a blob
// while it is being collected must not lose it, so the rows are deleted with the artifacts table
// locked against writes, and only blobs and files older than a grace period are candidates: a put
// writes its file before its row commits.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Driver } from '../driver/types.js';

export interface CollectOptions {
  /** Only blobs stored, and files written, longer ago than this many ms (default one hour). */
  readonly olderThanMs?: number;
  /** Report what would go, delete nothing. */
  readonly dryRun?: boolean;
}

export interface CollectReport {
  /** Blob rows no artifact names. */
  readonly rows: number;
  /** Files in the blob directory no row keeps there. */
  readonly files: number;
  /** Bytes freed (rows and files). */
  readonly bytes: number;
  readonly dryRun: boolean;
}

const HEX = /^[0-9a-f]{64}$/;

async function blobFiles(blobDir: string): Promise<{ digest: string; path: string }[]> {
  const root = join(blobDir, 'sha256');
  const out: { digest: string; path: string }[] = [];
  for (const prefix of await readdir(root).catch(() => [] as string[])) {
    for (const name of await readdir(join(root, prefix)).catch(() => [] as string[])) {
      // leftovers of a write that failed (`<hex>.<random>.tmp`) count as files no row keeps
      const hex = name.slice(0, 64);
      if (HEX.test(hex)) out.push({ digest: `sha256:${hex}`, path: join(root, prefix, name) });
    }
  }
  return out;
}

export async function collectBlobs(
  driver: Driver,
  blobDir: string,
  options: CollectOptions = {},
): Promise<CollectReport> {
  const olderThanMs = options.olderThanMs ?? 3_600_000;
  const dryRun = options.dryRun === true;
  const rows = await driver.transaction(async (tx) => {
    // Puts wait while this runs (SHARE conflicts with their ROW EXCLUSIVE), so a digest no
    // artifact names now is not named by a put committing at the same moment.
    await tx.query('LOCK TABLE baton.artifacts IN SHARE MODE');
    const candidates = `SELECT b.digest, b.size FROM baton.artifact_blobs b
       WHERE b.created_at < now() - $1::float8 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM baton.artifacts a WHERE a.digest = b.digest)`;
    return tx.query<{ digest: string; size: string | number }>(
      dryRun
        ? candidates
        : `DELETE FROM baton.artifact_blobs WHERE digest IN (SELECT digest FROM (${candidates}) c)
           RETURNING digest, size`,
      [olderThanMs],
    );
  });
  const gone = new Set(rows.map((r) => r.digest));
  let bytes = rows.reduce((n, r) => n + Number(r.size), 0);
  // Files: kept only for a row that lives in the blob directory (data null) and is not going.
  const kept = new Set(
    (
      await driver.query<{ digest: string }>('SELECT digest FROM baton.artifact_blobs WHERE data IS NULL')
    ).map((r) => r.digest),
  );
  let files = 0;
  const cutoff = Date.now() - olderThanMs;
  for (const f of await blobFiles(blobDir)) {
    const partial = f.path.endsWith('.tmp');
    if (!partial && kept.has(f.digest) && !gone.has(f.digest)) continue;
    const st = await stat(f.path).catch(() => undefined);
    if (!st || st.mtimeMs > cutoff) continue;
    files++;
    // the blob file of a row that is going was counted with the row
    if (partial || !gone.has(f.digest)) bytes += st.size;
    if (!dryRun) await rm(f.path, { force: true });
  }
  return { rows: rows.length, files, bytes, dryRun };
}
