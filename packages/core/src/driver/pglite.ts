import { PGlite } from '@electric-sql/pglite';
import { closeSync, mkdirSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { BatonError } from '../errors.js';
import type { Driver, Queryable } from './types.js';

interface PGliteLike {
  query<R>(sql: string, params?: unknown[]): Promise<{ rows: R[] }>;
  exec(sql: string): Promise<unknown>;
}

class PGliteQueryable implements Queryable {
  constructor(protected readonly db: PGliteLike) {}
  async query<R>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    const res = await this.db.query<R>(sql, params as unknown[]);
    return res.rows;
  }
  async script(sql: string): Promise<void> {
    await this.db.exec(sql);
  }
}

/**
 * Embedded backend: PostgreSQL compiled to WebAssembly, in this process. One connection,
 * so transactions are serialised by PGlite itself.
 */
export class PGliteDriver extends PGliteQueryable implements Driver {
  readonly backend = 'pglite' as const;

  private constructor(
    private readonly pglite: PGlite,
    private readonly unlock: () => void,
  ) {
    super(pglite);
  }

  /**
   * Opens (creating if needed) the database in `dataDir`, or an in-memory one when `dataDir` is
   * undefined. A data directory is locked for this process while it is open.
   */
  static async open(dataDir: string | undefined): Promise<PGliteDriver> {
    if (!dataDir) return new PGliteDriver(await PGlite.create(), () => undefined);
    mkdirSync(dataDir, { recursive: true });
    const unlock = lockDataDir(dataDir);
    try {
      return new PGliteDriver(await PGlite.create(dataDir), unlock);
    } catch (err) {
      unlock();
      throw err;
    }
  }

  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    return this.pglite.transaction((tx) => fn(new PGliteQueryable(tx)));
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    return this.pglite.listen(channel, onMessage);
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.pglite.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async close(): Promise<void> {
    if (!this.pglite.closed) await this.pglite.close();
    this.unlock();
  }
}

/**
 * PGlite is one process's database: a second process opening the same directory would not see the
 * first one's writes and could damage the files. `<dataDir>.lock` holds the owner's pid; a lock
 * left by a process that no longer exists is taken over.
 */
function lockDataDir(dataDir: string): () => void {
  const path = `${dataDir}.lock`;
  mkdirSync(dirname(path), { recursive: true });
  for (;;) {
    try {
      const fd = openSync(path, 'wx');
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return () => {
        try {
          unlinkSync(path);
        } catch {
          // Already gone: nothing to release.
        }
      };
    } catch (err) {
      if ((err as { code?: string }).code !== 'EEXIST') throw err;
    }
    let owner = NaN;
    try {
      owner = Number(readFileSync(path, 'utf8'));
    } catch {
      continue; // Released between our two calls: try again.
    }
    if (Number.isInteger(owner) && owner > 0 && processExists(owner)) {
      throw new BatonError(
        'E_DATABASE_UNAVAILABLE',
        `the embedded database at ${dataDir} is open in process ${owner}${owner === process.pid ? ' (this one)' : ''}; PGlite serves one process at a time. ` +
          'Stop that process first, or use a PostgreSQL server (BATON_DATABASE_URL) to share the database between processes.',
        { details: { dataDir, owner } },
      );
    }
    unlinkSync(path);
  }
}

function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as { code?: string }).code === 'EPERM';
  }
}
