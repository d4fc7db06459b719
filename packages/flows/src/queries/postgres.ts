// PostgreSQL datasources: a server named by URL (its own small pool), or Baton's own store (through
// its driver, PGlite or a server). Every run is a READ ONLY transaction with a statement_timeout.
import pg from 'pg';
import type { Logger, Store } from '@baton/core';
import { listElement, type ParamValue } from './params.js';
import { compileSql } from './sql-params.js';
import { isUnavailable } from './errors.js';
import {
  createIndexSql,
  indexProblem,
  quoteIdent,
  slotIndexes,
  type Datasource,
  type PreparedQuery,
  type QueryPlan,
  type RawRows,
} from './datasource.js';
import type { IndexDefinition } from '../config/kinds/queries.js';

/** The statement_timeout of a run when neither the query nor its datasource sets one. */
export const DEFAULT_STATEMENT_TIMEOUT_MS = 5000;

/** Statements that PREPARE checks at load and a cursor can read, so a capped run stops at the cap. */
const QUERY_KEYWORDS = new Set(['SELECT', 'WITH', 'VALUES', 'TABLE']);
/** Statements that only read but that PostgreSQL cannot PREPARE: they are checked at their first run. */
const UNPREPARABLE_READS = new Set(['SHOW', 'EXPLAIN']);
/**
 * The other commands of PostgreSQL, refused as statements that may write. A first word outside
 * every list is left to PREPARE, which reports the syntax error.
 */
const OTHER_COMMANDS = new Set(
  (
    'ABORT ALTER ANALYZE BEGIN CALL CHECKPOINT CLOSE CLUSTER COMMENT COMMIT COPY CREATE DEALLOCATE DECLARE ' +
    'DELETE DISCARD DO DROP END EXECUTE FETCH GRANT IMPORT INSERT LISTEN LOAD LOCK MERGE MOVE NOTIFY PREPARE ' +
    'REASSIGN REFRESH REINDEX RELEASE RESET REVOKE ROLLBACK SAVEPOINT SECURITY SET START TRUNCATE UNLISTEN ' +
    'UPDATE VACUUM'
  ).split(' '),
);

export type Run = (sql: string, params?: readonly unknown[]) => Promise<Record<string, unknown>[]>;

/** A way to run statements in a transaction on one connection. */
export interface PgSession {
  transaction<T>(readOnly: boolean, fn: (run: Run) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A PostgreSQL server through a pool of its own. */
export class PoolSession implements PgSession {
  private readonly pool: pg.Pool;

  constructor(url: string, logger: Logger) {
    this.pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: 10_000 });
    // An idle client that loses its server emits here; without a handler the process would crash.
    this.pool.on('error', (err) => logger.warn({ err: err.message }, 'idle PostgreSQL connection lost'));
  }

  async transaction<T>(readOnly: boolean, fn: (run: Run) => Promise<T>): Promise<T> {
    // A checked-out client whose connection dies emits 'error'; the handler goes on in the pool's
    // callback (as in @baton/core's driver) so that even an error arriving with the hand-over is caught.
    const ignore = () => undefined;
    const client = await new Promise<pg.PoolClient>((resolve, reject) =>
      this.pool.connect((err, c) => {
        if (err || !c) return reject(err ?? new Error('the pool handed out no client'));
        c.on('error', ignore);
        resolve(c);
      }),
    );
    let failed = false;
    try {
      await client.query(readOnly ? 'BEGIN READ ONLY' : 'BEGIN');
      const out = await fn(async (sql, params) => (await client.query(sql, params as unknown[])).rows);
      await client.query('COMMIT');
      return out;
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      client.off('error', ignore);
      // A connection whose transaction failed is dropped rather than rolled back: it may be broken,
      // and failures are rare enough that a new connection costs nothing worth saving.
      client.release(failed);
    }
  }

  async close(): Promise<void> {
    await this.pool.end();
  }
}

/** Baton's own store: its driver's transactions, made read-only when asked. */
export class StoreSession implements PgSession {
  constructor(private readonly store: Store) {}

  transaction<T>(readOnly: boolean, fn: (run: Run) => Promise<T>): Promise<T> {
    return this.store.driver.transaction(async (tx) => {
      if (readOnly) await tx.query('SET TRANSACTION READ ONLY');
      return fn((sql, params) => tx.query(sql, params));
    });
  }

  async close(): Promise<void> {
    // The store belongs to the caller, who closes it.
  }
}

class PgQuery implements PreparedQuery {
  private readonly text: string;
  private readonly slots: number[];
  private readonly cursor: boolean;

  constructor(
    private readonly session: PgSession,
    plan: QueryPlan,
    private readonly timeoutMs: number,
  ) {
    const compiled = compileSql(plan.scan, listsOf(plan));
    this.text = compiled.text;
    this.slots = slotIndexes(plan, compiled.slots);
    this.cursor = QUERY_KEYWORDS.has(plan.scan.firstKeyword ?? '');
  }

  run(values: readonly ParamValue[], maxRows: number | undefined): Promise<RawRows> {
    const args = this.slots.map((i) => values[i]);
    return this.session.transaction(true, async (run) => {
      // SET takes no parameters; the timeout is an integer the schema checked.
      await run(`SET LOCAL statement_timeout = ${this.timeoutMs}`);
      if (maxRows === undefined || !this.cursor)
        return { rows: await run(this.text, args), truncated: false };
      // A cursor reads one row past the cap, to know whether there were more, and no further.
      await run(`DECLARE baton_capped NO SCROLL CURSOR FOR ${this.text}`, args);
      const rows = await run(`FETCH FORWARD ${maxRows + 1} FROM baton_capped`);
      return rows.length > maxRows
        ? { rows: rows.slice(0, maxRows), truncated: true }
        : { rows, truncated: false };
    });
  }
}

/** Lists bind as one array parameter whatever their length; the length here is only a marker. */
function listsOf(plan: QueryPlan): Map<string, number> {
  return new Map(plan.params.filter((p) => listElement(p.type)).map((p) => [p.name, 1]));
}

let checkCounter = 0;

/** A PostgreSQL datasource: a server (`type: postgres`) or Baton's own store (`type: baton`). */
export class PgDatasource implements Datasource {
  readonly dialect = 'postgres' as const;

  private constructor(
    readonly name: string,
    private readonly session: PgSession,
    private readonly timeoutMs: number,
    private readonly isStore: boolean,
  ) {}

  /** A server by URL, with its own pool of up to 4 connections. */
  static server(name: string, url: string, timeoutMs: number | undefined, logger: Logger): PgDatasource {
    return new PgDatasource(
      name,
      new PoolSession(url, logger),
      timeoutMs ?? DEFAULT_STATEMENT_TIMEOUT_MS,
      false,
    );
  }

  /** Baton's own store; closing the datasource leaves the store open. */
  static store(name: string, store: Store): PgDatasource {
    return new PgDatasource(name, new StoreSession(store), DEFAULT_STATEMENT_TIMEOUT_MS, true);
  }

  /**
   * Checks every plan in one read-only transaction: `PREPARE` parses and plans the statement (an
   * unknown table or column fails here) without running it, then `DEALLOCATE` drops it. Each check
   * runs under a savepoint so that one failure does not abort the rest. A command other than a
   * query is refused; SHOW and EXPLAIN, which PREPARE does not take, are checked at their first run
   * (and the READ ONLY transaction stops an EXPLAIN ANALYZE that would write).
   */
  async prepare(plans: readonly QueryPlan[]): Promise<(PreparedQuery | string)[]> {
    return this.session.transaction(true, async (run) => {
      const out: (PreparedQuery | string)[] = [];
      for (const plan of plans) {
        const keyword = plan.scan.firstKeyword ?? '';
        if (OTHER_COMMANDS.has(keyword)) {
          out.push(
            `a ${keyword} statement may write; named queries only read (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN)`,
          );
          continue;
        }
        if (UNPREPARABLE_READS.has(keyword)) {
          out.push(new PgQuery(this.session, plan, plan.timeoutMs ?? this.timeoutMs));
          continue;
        }
        // A prepared statement belongs to the session and outlives a rollback: its name must be fresh.
        const name = `baton_check_${process.pid}_${++checkCounter}`;
        await run('SAVEPOINT baton_check');
        try {
          await run(`PREPARE ${name} AS ${compileSql(plan.scan, listsOf(plan)).text}`);
          await run(`DEALLOCATE ${name}`);
          await run('RELEASE SAVEPOINT baton_check');
          out.push(new PgQuery(this.session, plan, plan.timeoutMs ?? this.timeoutMs));
        } catch (err) {
          if (isUnavailable(err)) throw err;
          await run('ROLLBACK TO SAVEPOINT baton_check');
          out.push((err as Error).message);
        }
      }
      return out;
    });
  }

  async checkIndexes(indexes: readonly IndexDefinition[]): Promise<(string | undefined)[]> {
    if (this.isStore) {
      return indexes.map(
        (i) =>
          `index '${i.name}': datasource '${this.name}' is Baton's own store, whose schema its migrations manage; ` +
          'declare indexes for a sqlite or postgres datasource',
      );
    }
    return this.session.transaction(true, async (run) => {
      const out: (string | undefined)[] = [];
      for (const index of indexes) {
        const rows = await run(
          'SELECT attname FROM pg_attribute WHERE attrelid = to_regclass($1) AND attnum > 0 AND NOT attisdropped ORDER BY attnum',
          [quoteIdent(index.table)],
        );
        out.push(
          indexProblem(
            index,
            rows.map((r) => String(r.attname)),
            this.name,
          ),
        );
      }
      return out;
    });
  }

  async createIndexes(indexes: readonly IndexDefinition[]): Promise<boolean[]> {
    return this.session.transaction(false, async (run) => {
      const out: boolean[] = [];
      for (const index of indexes) {
        const [{ found }] = await run('SELECT to_regclass($1) IS NOT NULL AS found', [
          quoteIdent(index.name),
        ]);
        if (!found) await run(createIndexSql(index));
        out.push(!found);
      }
      return out;
    });
  }

  async close(): Promise<void> {
    await this.session.close();
  }
}
