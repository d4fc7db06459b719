import { PGlite } from '@electric-sql/pglite';
import { mkdirSync } from 'node:fs';
import { TIMESTAMPTZ, parseTimestamptz } from './timestamps.js';
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
   * undefined. The caller holds the data directory's lock (embedded.ts); `unlock` releases it
   * when the driver closes, or at once if the database cannot be opened.
   */
  static async open(
    dataDir: string | undefined,
    unlock: () => void = () => undefined,
  ): Promise<PGliteDriver> {
    try {
      if (dataDir) mkdirSync(dataDir, { recursive: true });
      // PGlite's own timestamptz parser hands the text to `new Date`, which reads years 0–99 as
      // 1900–1999; Baton's parser reads every year as written, as the pg backend does.
      const pglite = await PGlite.create(dataDir, { parsers: { [TIMESTAMPTZ]: parseTimestamptz } });
      return new PGliteDriver(pglite, unlock);
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
