/** Something that runs SQL: the driver itself, or a transaction handed out by it. */
export interface Queryable {
  /**
   * Runs one statement with `$n` parameters and returns its rows. `name` marks a hot statement
   * that the backend may prepare once per connection.
   */
  query<R = Record<string, unknown>>(sql: string, params?: readonly unknown[], name?: string): Promise<R[]>;
  /** Runs a script of several statements without parameters (migrations). */
  script(sql: string): Promise<void>;
}

/**
 * The thin adapter that hides the client library. Engine code talks only to this, so the
 * same SQL runs on PGlite and on a PostgreSQL server.
 */
export interface Driver extends Queryable {
  readonly backend: 'pglite' | 'postgres';
  /** Runs `fn` inside BEGIN/COMMIT on one connection; rolls back if it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to NOTIFY on `channel`. The subscription survives reconnects. Returns a function
   * that unsubscribes.
   */
  listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>>;
  /** Sends a NOTIFY. */
  notify(channel: string, payload: string): Promise<void>;
  close(): Promise<void>;
}
