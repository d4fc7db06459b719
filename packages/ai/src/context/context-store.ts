// The project context index in the store (baton.ai_context_files), per project root: a scan starts
// from what the last one kept and writes back only what changed.
import type { Driver } from '@baton/core';
import type { FileFacts } from './extract.js';
import { scanProject, type ScanEntry, type ScanOptions, type ScanResult } from './scan.js';

interface Row {
  path: string;
  mtime_ms: number;
  size: string | number;
  facts: FileFacts | null;
  skipped: string | null;
}

/** Rows written per statement. */
const BATCH = 500;

export class ContextStore {
  /** What this object's last scan of each root read: a later scan starts from it, not the table. */
  private readonly last = new Map<string, Map<string, ScanEntry>>();

  constructor(private readonly driver: Driver) {}

  /** The entries the last scan of `root` kept (empty for a root never scanned). */
  async load(root: string): Promise<Map<string, ScanEntry>> {
    const rows = await this.driver.query<Row>(
      'SELECT path, mtime_ms, size, facts, skipped FROM baton.ai_context_files WHERE root = $1',
      [root],
    );
    return new Map(
      rows.map((r) => [
        r.path,
        {
          mtimeMs: r.mtime_ms,
          size: Number(r.size),
          ...(r.facts ? { facts: r.facts } : {}),
          ...(r.skipped !== null ? { skipped: r.skipped } : {}),
        },
      ]),
    );
  }

  /** Scans `root` from what the last scan kept, and keeps what this one read. */
  async scan(root: string, options: Omit<ScanOptions, 'previous'> = {}): Promise<ScanResult> {
    const previous = this.last.get(root) ?? (await this.load(root));
    const result = scanProject(root, { ...options, previous });
    await this.save(root, result);
    this.last.set(root, result.entries);
    return result;
  }

  /** Writes what `scan` read anew and forgets what it found gone, in one transaction. */
  async save(root: string, scan: ScanResult): Promise<void> {
    if (scan.changed.length === 0 && scan.removed.length === 0) return;
    await this.driver.transaction(async (tx) => {
      if (scan.removed.length) {
        await tx.query('DELETE FROM baton.ai_context_files WHERE root = $1 AND path = ANY($2::text[])', [
          root,
          scan.removed,
        ]);
      }
      for (let i = 0; i < scan.changed.length; i += BATCH) {
        const paths = scan.changed.slice(i, i + BATCH);
        const entries = paths.map((p) => scan.entries.get(p)!);
        await tx.query(
          `INSERT INTO baton.ai_context_files (root, path, mtime_ms, size, facts, skipped)
           SELECT $1, p, m, s, f, k FROM unnest($2::text[], $3::float8[], $4::bigint[], $5::jsonb[], $6::text[])
             AS x(p, m, s, f, k)
           ON CONFLICT (root, path) DO UPDATE SET mtime_ms = excluded.mtime_ms, size = excluded.size,
             facts = excluded.facts, skipped = excluded.skipped`,
          [
            root,
            paths,
            entries.map((e) => e.mtimeMs),
            entries.map((e) => e.size),
            entries.map((e) => (e.facts ? JSON.stringify(e.facts) : null)),
            entries.map((e) => e.skipped ?? null),
          ],
        );
      }
    });
  }
}
