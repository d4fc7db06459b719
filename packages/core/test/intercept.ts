// Fault injection at the driver boundary, for tests and the fault suite: hooks run around the
// engine's statements on a real database. A statement is known by its name when it has one
// (baton_claim, baton_complete_*, …), else by its SQL text.
import type { Queryable } from '../src/index.js';

export interface StatementHooks {
  /** Runs as a statement is sent. */
  before?(statement: string): void;
  /** Awaited before a statement is sent: holds it back (to force an interleaving). */
  hold?(statement: string): Promise<void> | void;
  /** Runs (and is awaited) once a statement has succeeded; throwing here loses its reply. */
  after?(statement: string): void | Promise<void>;
}

/** Wraps `driver.query` so that `hooks` see every statement. */
export function interceptStatements(driver: Queryable, hooks: StatementHooks): void {
  const query = driver.query.bind(driver) as Queryable['query'];
  (driver as { query: Queryable['query'] }).query = async <R>(
    sql: string,
    params?: readonly unknown[],
    name?: string,
  ) => {
    const statement = name ?? sql.trim();
    hooks.before?.(statement);
    await hooks.hold?.(statement);
    const rows = await query<R>(sql, params, name);
    await hooks.after?.(statement);
    return rows;
  };
}

/** The error a caller sees when the connection drops between the server's COMMIT and its answer. */
export function lostReply(name: string): Error {
  return Object.assign(
    new Error(`Connection terminated unexpectedly (injected: the reply to ${name} was lost)`),
    {
      code: 'ECONNRESET',
    },
  );
}
