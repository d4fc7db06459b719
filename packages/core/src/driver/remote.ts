// A Driver for a process that does not hold the embedded store: every statement, transaction,
// LISTEN and NOTIFY goes to the process that holds it (local-server.ts). A lost connection fails
// what was in flight with a connection error, as a PostgreSQL server going away would; the next
// call connects again to whichever process serves the store then, and LISTENs are renewed.
import { connect, type Socket } from 'node:net';
import { BatonError } from '../errors.js';
import { decodeLine, encodeLine, fromWireError, LineReader, type WireError } from './wire.js';
import { MAX_MESSAGE_BYTES, type Request } from './local-server.js';
import type { ServeInfo } from './embedded-lock.js';
import type { Driver, Queryable } from './types.js';

type Body = Omit<Request, 'id'>;

interface Connection {
  socket: Socket;
  pending: Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>;
  /** Server-side subscription id → our subscription. */
  subs: Map<number, Subscription>;
}

interface Subscription {
  channel: string;
  onMessage: (payload: string) => void;
  /** The connection it is (being) listened on, its LISTEN on it, and its id there once done. */
  conn?: Connection;
  listening?: Promise<void>;
  serverId?: number;
}

/** How long the holder has to answer a new connection's hello before the connection counts as failed. */
const HELLO_TIMEOUT_MS = 5000;

/** An error that isConnectionError() recognises, so callers retry as they would for a server. */
function connectionLost(why: string): Error {
  return Object.assign(new Error(`Connection terminated: ${why}`), { code: 'ECONNRESET' });
}

export class RemoteDriver implements Driver {
  readonly backend = 'pglite' as const;
  private connection: Promise<Connection> | undefined;
  /** The connection the promise above resolved to, once it has. */
  private current: Connection | undefined;
  private nextId = 1;
  private readonly subscriptions = new Set<Subscription>();
  private closed = false;
  private resubscribing = false;

  constructor(
    /** Finds the process serving the store now; `gone` when no live process holds it any more. */
    private readonly locate: () => ServeInfo | 'gone' | undefined,
    /** Said in errors: the store this driver reaches. */
    private readonly where: string,
    /**
     * Called once when the holder has exited and nobody holds the store: this driver cannot take
     * it over (a process must open it itself), so a long-running user of it should restart.
     */
    private readonly onGone?: () => void,
  ) {}

  /** The serving process's pid, after the first connection. */
  servedBy: number | undefined;

  async query<R = Record<string, unknown>>(sql: string, params: readonly unknown[] = []): Promise<R[]> {
    return (await this.call({ op: 'query', sql, params: [...params] })) as R[];
  }

  async script(sql: string): Promise<void> {
    await this.call({ op: 'script', sql });
  }

  async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const conn = await this.open();
    const tx = (await this.send(conn, { op: 'begin' })) as number;
    const queryable: Queryable = {
      query: async <R>(sql: string, params: readonly unknown[] = []) =>
        (await this.send(conn, { op: 'query', sql, params: [...params], tx })) as R[],
      script: async (sql: string) => void (await this.send(conn, { op: 'script', sql, tx })),
    };
    let out: T;
    try {
      out = await fn(queryable);
    } catch (err) {
      await this.send(conn, { op: 'rollback', tx }).catch(() => undefined);
      throw err;
    }
    await this.send(conn, { op: 'commit', tx });
    return out;
  }

  async listen(channel: string, onMessage: (payload: string) => void): Promise<() => Promise<void>> {
    const sub: Subscription = { channel, onMessage };
    this.subscriptions.add(sub);
    await this.subscribe(await this.open(), sub);
    return async () => {
      this.subscriptions.delete(sub);
      const conn = this.connection && (await this.connection.catch(() => undefined));
      if (conn && sub.serverId !== undefined) {
        conn.subs.delete(sub.serverId);
        await this.send(conn, { op: 'unlisten', sub: sub.serverId }).catch(() => undefined);
      }
    };
  }

  async notify(channel: string, payload: string): Promise<void> {
    await this.call({ op: 'notify', channel, payload });
  }

  async close(): Promise<void> {
    this.closed = true;
    const conn = this.connection && (await this.connection.catch(() => undefined));
    this.connection = undefined;
    conn?.socket.end();
  }

  private async call(body: Body): Promise<unknown> {
    return this.send(await this.open(), body);
  }

  private send(conn: Connection, body: Body): Promise<unknown> {
    if (conn.socket.destroyed)
      return Promise.reject(connectionLost(`the process serving ${this.where} went away`));
    const id = this.nextId++;
    const line = encodeLine({ id, ...body });
    // Refused here, as a plain error: the holder would have to drop the connection for it.
    if (line.length > MAX_MESSAGE_BYTES)
      return Promise.reject(
        new BatonError(
          'E_INVALID_OPTION',
          `a statement of ${line.length} bytes is more than the ${MAX_MESSAGE_BYTES} the embedded store's local connection carries; send it in parts`,
        ),
      );
    return new Promise((resolve, reject) => {
      conn.pending.set(id, { resolve, reject });
      conn.socket.write(line);
    });
  }

  /** LISTENs `sub` on `conn`, once: the connect loop and listen() may both ask for it. */
  private subscribe(conn: Connection, sub: Subscription): Promise<void> {
    if (sub.conn !== conn || !sub.listening) {
      sub.conn = conn;
      sub.serverId = undefined;
      sub.listening = this.send(conn, { op: 'listen', channel: sub.channel }).then((id) => {
        sub.serverId = id as number;
        conn.subs.set(sub.serverId, sub);
      });
    }
    return sub.listening;
  }

  /** The current connection, or a new one to whichever process serves the store now. */
  private open(): Promise<Connection> {
    if (this.closed) return Promise.reject(new Error(`the connection to ${this.where} was closed`));
    this.connection ??= this.connect().catch((err: unknown) => {
      this.connection = undefined;
      throw err;
    });
    return this.connection;
  }

  private async connect(): Promise<Connection> {
    const info = this.locate();
    if (info === 'gone' && this.onGone) setImmediate(this.onGone);
    if (!info || info === 'gone')
      throw Object.assign(
        new Error(
          `no process serves ${this.where} now${info === 'gone' ? ': the one that held it exited; restart this process to open the store itself' : ''}`,
        ),
        { code: 'ECONNREFUSED' },
      );
    const socket = connect({ host: '127.0.0.1', port: info.port });
    socket.setNoDelay(true);
    const conn: Connection = { socket, pending: new Map(), subs: new Map() };
    const reader = new LineReader(MAX_MESSAGE_BYTES);
    socket.on('data', (chunk: Buffer) => {
      let lines: string[];
      try {
        lines = reader.push(chunk);
      } catch {
        socket.destroy();
        return;
      }
      for (const line of lines) {
        const msg = decodeLine(line) as {
          id?: number;
          result?: unknown;
          error?: WireError;
          notify?: number;
          payload?: string;
        };
        if (msg.notify !== undefined) {
          conn.subs.get(msg.notify)?.onMessage(msg.payload ?? '');
          continue;
        }
        const waiter = conn.pending.get(msg.id ?? -1);
        if (!waiter) continue;
        conn.pending.delete(msg.id!);
        if (msg.error) waiter.reject(fromWireError(msg.error));
        else waiter.resolve(msg.result);
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      for (const w of conn.pending.values())
        w.reject(connectionLost(`the process serving ${this.where} went away`));
      conn.pending.clear();
      if (this.current === conn) {
        this.current = undefined;
        this.connection = undefined;
        // LISTENs are renewed on the next connection, which this opens (or the next call does).
        if (this.subscriptions.size > 0 && !this.closed) this.resubscribe();
      }
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    let timer: NodeJS.Timeout | undefined;
    try {
      // A holder that is stopped (SIGSTOP) accepts the connection but never answers.
      const hello = (await Promise.race([
        this.send(conn, { op: 'hello', token: info.token }),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(connectionLost(`the process serving ${this.where} did not answer`)),
            HELLO_TIMEOUT_MS,
          );
        }),
      ])) as { pid: number };
      this.servedBy = hello.pid;
    } catch (err) {
      socket.destroy();
      throw err;
    } finally {
      clearTimeout(timer);
    }
    this.current = conn;
    await Promise.all([...this.subscriptions].map((sub) => this.subscribe(conn, sub)));
    return conn;
  }

  /** Connects again for the LISTENs after a connection was lost: one chain of attempts at a time. */
  private resubscribe(): void {
    if (this.resubscribing) return;
    this.resubscribing = true;
    const attempt = () => {
      if (this.closed || this.subscriptions.size === 0) return void (this.resubscribing = false);
      this.open().then(
        () => void (this.resubscribing = false),
        // Nobody serves the store now: try again later, as a LISTEN connection to a server would.
        () => void setTimeout(attempt, 1000).unref?.(),
      );
    };
    setTimeout(attempt, 200).unref?.();
  }
}
