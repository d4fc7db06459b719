// The holder of an embedded store serves its driver to other local processes (the `baton` CLI
// beside a running worker, a second worker): each connection runs statements, transactions,
// LISTEN and NOTIFY on the holder's PGlite, one at a time, as the holder's own code does
// (docs/decisions/0012). Loopback only; a connection must first present the token of the serve file.
import { createServer, type Server, type Socket } from 'node:net';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { writeServeInfo } from './embedded-lock.js';
import { decodeLine, encodeLine, LineReader, toWireError } from './wire.js';
import type { Driver, Queryable } from './types.js';
import type { Logger } from '../logger.js';

/** Longest message accepted: a statement with its parameters, a page of rows. */
export const MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * A transaction that receives no statement for this long is rolled back, so that a stalled client
 * (a ^Z, a blocked event loop) cannot stall the holder, whose own statements wait for it, long
 * enough to miss its heartbeats (a third of a 30 s lease).
 */
export const TRANSACTION_IDLE_MS = 5000;

export interface Request {
  id: number;
  op: 'hello' | 'query' | 'script' | 'begin' | 'commit' | 'rollback' | 'listen' | 'unlisten' | 'notify';
  token?: string;
  sql?: string;
  params?: unknown[];
  tx?: number;
  channel?: string;
  payload?: string;
  sub?: number;
}

/** The statements of one remote transaction, run in order inside one driver.transaction. */
class RemoteTransaction {
  private readonly waiting: {
    run: (tx: Queryable) => Promise<unknown>;
    reply: (r: unknown, e?: unknown) => void;
  }[] = [];
  private wake: (() => void) | undefined;
  private ending: 'commit' | 'rollback' | undefined;
  /** True once committed; false once rolled back (by the client, its going away, or idleness). */
  readonly done: Promise<boolean>;

  constructor(driver: Driver, onIdle: () => void) {
    this.done = driver
      .transaction(async (tx) => {
        for (;;) {
          const next = this.waiting.shift();
          if (next) {
            try {
              next.reply(await next.run(tx));
            } catch (err) {
              next.reply(undefined, err);
            }
            continue;
          }
          if (this.ending === 'commit') return;
          if (this.ending === 'rollback') throw new Error('rolled back by the client');
          const idle = await new Promise<boolean>((resolve) => {
            const t = setTimeout(() => resolve(true), TRANSACTION_IDLE_MS);
            this.wake = () => (clearTimeout(t), resolve(false));
          });
          this.wake = undefined;
          if (idle && this.waiting.length === 0 && !this.ending) {
            onIdle();
            throw new Error(`no statement for ${TRANSACTION_IDLE_MS} ms`);
          }
        }
      })
      .then(
        () => true,
        () => false,
      );
  }

  run(fn: (tx: Queryable) => Promise<unknown>): Promise<unknown> {
    if (this.ending) return Promise.reject(new Error('the transaction has ended'));
    return new Promise((resolve, reject) => {
      this.waiting.push({ run: fn, reply: (r, e) => (e === undefined ? resolve(r) : reject(e)) });
      this.wake?.();
    });
  }

  /** Commits (or rolls back) once the statements before have run; resolves when it has. */
  end(how: 'commit' | 'rollback'): Promise<boolean> {
    this.ending ??= how;
    this.wake?.();
    return this.done;
  }
}

export class LocalServer {
  private readonly connections = new Set<Socket>();
  /** Requests being answered and remote transactions open, across connections. */
  private busy = 0;
  private unpublish: (() => void) | undefined;

  private constructor(
    private readonly server: Server,
    private readonly driver: Driver,
    private readonly token: Buffer,
    private readonly log: Logger,
  ) {}

  /** Starts serving `driver` on a loopback port and publishes it next to `dataDir`. */
  static async start(driver: Driver, dataDir: string, log: Logger): Promise<LocalServer> {
    const token = randomBytes(32);
    const server = createServer();
    const local = new LocalServer(server, driver, token, log);
    server.on('connection', (socket) => local.accept(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, () => resolve());
    });
    const port = (server.address() as { port: number }).port;
    local.unpublish = writeServeInfo(dataDir, { pid: process.pid, port, token: token.toString('hex') });
    return local;
  }

  /** Clients connected now. */
  get clients(): number {
    return this.connections.size;
  }

  /**
   * Stops serving: no new connection is accepted, what clients have under way (a request, an open
   * transaction) gets up to `graceMs` to finish, then every connection is cut.
   */
  async close(graceMs = 5000): Promise<void> {
    this.unpublish?.();
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    const deadline = Date.now() + graceMs;
    while (this.busy > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    for (const s of this.connections) s.destroy();
    await closed;
  }

  private accept(socket: Socket): void {
    this.connections.add(socket);
    socket.setNoDelay(true);
    const reader = new LineReader(MAX_MESSAGE_BYTES);
    const transactions = new Map<number, RemoteTransaction>();
    const subscriptions = new Map<number, () => Promise<void>>();
    let authenticated = false;
    let nextId = 1;
    const send = (message: unknown) => {
      if (socket.destroyed) return;
      let line = encodeLine(message);
      // A reply too large for the other side is an error for that request only.
      if (line.length > MAX_MESSAGE_BYTES && (message as { id?: number }).id !== undefined)
        line = encodeLine({
          id: (message as { id: number }).id,
          error: { message: `the reply is larger than ${MAX_MESSAGE_BYTES} bytes; ask for fewer rows` },
        });
      socket.write(line);
    };
    const reply = (id: number, work: () => Promise<unknown>) => {
      this.busy++;
      work()
        .then(
          (result) => send({ id, result: result ?? null }),
          (err: unknown) => send({ id, error: toWireError(err) }),
        )
        .finally(() => this.busy--);
    };
    socket.on('data', (chunk) => {
      let lines: string[];
      try {
        lines = reader.push(chunk);
      } catch (err) {
        this.log.warn({ err: (err as Error).message }, 'embedded store: dropping a local client');
        socket.destroy();
        return;
      }
      for (const line of lines) {
        let req: Request;
        try {
          req = decodeLine(line) as Request;
        } catch {
          socket.destroy();
          return;
        }
        if (!authenticated) {
          // The first message must carry the token; anything else ends the connection.
          if (req.op !== 'hello' || !this.tokenMatches(req.token)) {
            send({ id: req.id, error: { message: 'wrong or missing token for the embedded store' } });
            socket.end();
            return;
          }
          authenticated = true;
          send({ id: req.id, result: { pid: process.pid } });
          continue;
        }
        reply(req.id, () => this.handle(req, transactions, subscriptions, () => nextId++, send));
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      this.connections.delete(socket);
      // A client gone mid-transaction (killed, say) leaves nothing half done.
      for (const t of transactions.values()) void t.end('rollback');
      for (const off of subscriptions.values()) void off().catch(() => undefined);
    });
  }

  private async handle(
    req: Request,
    transactions: Map<number, RemoteTransaction>,
    subscriptions: Map<number, () => Promise<void>>,
    newId: () => number,
    send: (m: unknown) => void,
  ): Promise<unknown> {
    const on = (): Queryable | RemoteTransaction => {
      if (req.tx === undefined) return this.driver;
      const t = transactions.get(req.tx);
      if (!t)
        throw new Error(
          `transaction ${req.tx} is not open (rolled back after ${TRANSACTION_IDLE_MS} ms idle?)`,
        );
      return t;
    };
    const run = (fn: (q: Queryable) => Promise<unknown>) => {
      const target = on();
      return target instanceof RemoteTransaction ? target.run(fn) : fn(target);
    };
    switch (req.op) {
      case 'query':
        return run((q) => q.query(req.sql ?? '', req.params ?? []));
      case 'script':
        return run((q) => q.script(req.sql ?? ''));
      case 'begin': {
        const id = newId();
        const t = new RemoteTransaction(this.driver, () => transactions.delete(id));
        this.busy++;
        void t.done.finally(() => this.busy--);
        transactions.set(id, t);
        return id;
      }
      case 'commit':
      case 'rollback': {
        const t = on() as RemoteTransaction;
        transactions.delete(req.tx!);
        const committed = await t.end(req.op);
        if (req.op === 'commit' && !committed)
          throw new Error('the transaction was rolled back; nothing of it was written');
        return null;
      }
      case 'listen': {
        const sub = newId();
        subscriptions.set(
          sub,
          await this.driver.listen(req.channel ?? '', (payload) => send({ notify: sub, payload })),
        );
        return sub;
      }
      case 'unlisten': {
        const off = subscriptions.get(req.sub ?? -1);
        subscriptions.delete(req.sub ?? -1);
        await off?.();
        return null;
      }
      case 'notify':
        return this.driver.notify(req.channel ?? '', req.payload ?? '');
      default:
        throw new Error(`unknown request '${String(req.op)}'`);
    }
  }

  private tokenMatches(token: string | undefined): boolean {
    if (typeof token !== 'string' || !/^[0-9a-f]{64}$/.test(token)) return false;
    return timingSafeEqual(Buffer.from(token, 'hex'), this.token);
  }
}
