import pg from 'pg';
import type { Driver, Queryable } from './types.js';
import { BatonError } from '../errors.js';
import type { Logger } from '../logger.js';
import { PG_TYPES } from './timestamps.js';

/** Errors that mean "the server or the connection went away": callers retry these. */
export function isConnectionError(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: string }).code ?? '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EAI_AGAIN'].includes(code) ||
    code.startsWith('08') || // connection exception
    code === '57P01' || // admin_shutdown (pg_terminate_backend)
    code === '57P02' ||
    code === '57P03' || // cannot_connect_now (starting up / shutting down)
    /Connection terminated|connection terminated|Client has encountered a connection error|not queryable/.test(
      err.message,
    )
  );
}

/** Checks a postgres:// URL before any connection is tried, so a typo gets a clear message. */
export function parseDatabaseUrl(url: string): URL {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new BatonError(
      'E_DATABASE_URL',
      `database URL '${redact(url)}' is malformed; expected postgres://user:password@host:5432/database`,
    );
  }
  if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:') {
    throw new BatonError(
      'E_DATABASE_URL',
      `database URL '${redact(url)}' has scheme '${parsed.protocol}', expected postgres:// or postgresql://`,
    );
  }
  if (!parsed.hostname && !parsed.searchParams.get('host')) {
    throw new BatonError(
      'E_DATABASE_URL',
      `database URL '${redact(url)}' names no host; expected postgres://user@host:5432/database`,
    );
  }
  if (parsed.port && !/^\d+$/.test(parsed.port)) {
    throw new BatonError('E_DATABASE_URL', `database URL '${redact(url)}' has a non-numeric port`);
  }
  return parsed;
}

/** Hides the password of a URL in messages. */
export function redact(url: string): string {
  return url.replace(/(\/\/[^:/@]+:)[^@]*@/, '$1***@');
}

class PgQueryable implements Queryable {
  constructor(private readonly client: pg.Pool | pg.PoolClient) {}
  async query<R>(sql: string, params: readonly unknown[] = [], name?: string): Promise<R[]> {
    const res = await this.client.query({ text: sql, values: params as unknown[], name });
    return res.rows as R[];
  }
  async script(sql: string): Promise<void> {
    await this.client.query(sql);
  }
}

/** PostgreSQL server backend on node-postgres: a pool for statements, one dedicated client for LISTEN. */
export class PostgresDriver extends PgQueryable implements Driver {
  readonly backend = 'postgres' as const;
  private readonly pool: pg.Pool;
  private listener: pg.Client | undefined;
  private listenerReady: Promise<pg.Client> | undefined;
  private readonly subscriptions = new Map<string, Set<(payload: string) => void>>();
  private closed = false;
  private reconnecting = false;
  private listenerQueue: Promise<unknown> = Promise.resolve();

  constructor(
    /** The connection URL, credentials included. */
    readonly url: string,
    private readonly log: Logger,
    poolSize = 10,
  ) {
    parseDatabaseUrl(url);
    const pool = new pg.Pool({
      connectionString: url,
      max: poolSize,
      connectionTimeoutMillis: 10_000,
      types: PG_TYPES,
    });
    // An idle client that loses its server emits here; without a handler the process would crash.
    pool.on('error', (err) => this.log.warn({ err: err.message }, 'idle PostgreSQL connection lost'));
    super(pool);
    this.pool = pool;
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    let broken = false;
    // A checked-out client whose connection dies between two statements emits 'error' rather than
    // failing a query; unhandled, that would crash the process. The next statement fails instead.
    // The handler goes on in the pool's own callback: by the time an awaited connect() resumes,
    // the rest of the packet that handed the client over (a FATAL, say) may already have arrived.
    const onError = () => (broken = true);
    const client = await new Promise<pg.PoolClient>((resolve, reject) =>
      this.pool.connect((err, c) => {
        if (err || !c) return reject(err ?? new Error('the pool handed out no client'));
        c.on('error', onError);
        resolve(c);
      }),
    );
    try {
      await client.query('BEGIN');
      const out = await fn(new PgQueryable(client));
      await client.query('COMMIT');
      return out;
    } catch (err) {
      broken ||= isConnectionError(err);
      if (!broken) await client.query('ROLLBACK').catch(() => undefined);
      throw err;
    } finally {
      client.off('error', onError);
      client.release(broken);
    }
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.query('SELECT pg_notify($1, $2)', [channel, payload]);
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    let set = this.subscriptions.get(channel);
    const first = !set;
    if (!set) this.subscriptions.set(channel, (set = new Set()));
    set.add(onMessage);
    const client = await this.connectListener();
    if (first) await this.onListener(client, `LISTEN ${quoteIdent(channel)}`);
    return async () => {
      set.delete(onMessage);
      if (set.size === 0 && this.listener) {
        this.subscriptions.delete(channel);
        await this.onListener(this.listener, `UNLISTEN ${quoteIdent(channel)}`).catch(() => undefined);
      }
    };
  }

  /**
   * Opens (once) the LISTEN connection. When an established one ends, one reconnect loop (with
   * backoff) opens another and subscribes it again; a connection that never opened does not start
   * a loop of its own, so an outage cannot multiply them.
   */
  private connectListener(): Promise<pg.Client> {
    if (this.listenerReady) return this.listenerReady;
    this.listenerReady = (async () => {
      const client = new pg.Client({ connectionString: this.url });
      client.on('notification', (msg) => {
        for (const fn of this.subscriptions.get(msg.channel) ?? []) fn(msg.payload ?? '');
      });
      client.on('error', (err) => this.log.warn({ err: err.message }, 'LISTEN connection error'));
      await client.connect();
      client.on('end', () => {
        if (this.listener !== client) return;
        this.listener = undefined;
        this.listenerReady = undefined;
        if (!this.closed) void this.reconnectListener();
      });
      this.listener = client;
      return client;
    })();
    this.listenerReady.catch(() => (this.listenerReady = undefined));
    return this.listenerReady;
  }

  /** Runs a statement on the LISTEN connection after those already sent: one at a time, as pg wants. */
  private onListener(client: pg.Client, sql: string): Promise<unknown> {
    const run = this.listenerQueue.then(() => client.query(sql));
    this.listenerQueue = run.catch(() => undefined);
    return run;
  }

  private async reconnectListener(): Promise<void> {
    if (this.reconnecting) return;
    this.reconnecting = true;
    try {
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          const client = await this.connectListener();
          for (const channel of this.subscriptions.keys())
            await client.query(`LISTEN ${quoteIdent(channel)}`);
          this.log.info('LISTEN connection re-established');
          return;
        } catch (err) {
          const delay = Math.min(5000, 100 * 2 ** attempt) * (0.5 + Math.random() / 2);
          this.log.warn(
            { err: (err as Error).message, retryInMs: Math.round(delay) },
            'LISTEN reconnect failed',
          );
          await new Promise((r) => setTimeout(r, delay));
        }
      }
    } finally {
      this.reconnecting = false;
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    const listener = this.listener;
    this.listener = undefined;
    await listener?.end().catch(() => undefined);
    await this.pool.end();
  }
}

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}
