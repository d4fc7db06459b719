// Fault injection at the driver boundary, for tests and the fault suite: hooks run around the
// engine's named statements (baton_claim_*, baton_complete_*, …) on a real database.
import type { Queryable } from '../src/index.js';

export interface StatementHooks {
  /** Runs as a named statement is sent. */
  before?(name: string): void;
  /** Runs once a named statement has committed; throwing here loses its reply. */
  after?(name: string): void;
}

/** Wraps `driver.query` so that `hooks` see every named statement. */
export function interceptStatements(driver: Queryable, hooks: StatementHooks): void {
  const query = driver.query.bind(driver) as Queryable['query'];
  (driver as { query: Queryable['query'] }).query = async <R>(
    sql: string,
    params?: readonly unknown[],
    name?: string,
  ) => {
    if (name) hooks.before?.(name);
    const rows = await query<R>(sql, params, name);
    if (name) hooks.after?.(name);
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
