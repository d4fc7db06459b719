// The database going away under a running worker: a real TCP proxy between the worker and
// PostgreSQL is cut, refused for a while, then restored.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import net from 'node:net';
import { freshDatabase, eventually, sleep, quietLogger, backends } from './backends.js';
import pg from 'pg';
import { Client, Store, Worker, defineJob } from '../src/index.js';
import { isConnectionError, type PostgresDriver } from '../src/driver/postgres.js';

const PG = process.env.BATON_PG_URL;

/**
 * Forwards a local port to PostgreSQL. `cut()` drops every connection and refuses new ones until
 * `restore()`; `hangUp()` drops every connection and closes new ones as soon as they open (as a
 * server that is starting up answers).
 */
class Proxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  private hangingUp = false;
  port = 0;
  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}
  async listen(): Promise<void> {
    this.hangingUp = false;
    this.server = net.createServer((client) => {
      if (this.hangingUp) return void client.destroy();
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  async cut(): Promise<void> {
    const closed = new Promise<void>((r) => this.server!.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
  hangUp(): void {
    this.hangingUp = true;
    for (const s of this.sockets) s.destroy();
  }
  restore(): Promise<void> {
    if (this.hangingUp) {
      this.hangingUp = false;
      return Promise.resolve();
    }
    return this.listen();
  }
}

describe.skipIf(!PG)('database outage', () => {
  let direct: Store;
  let proxy: Proxy;
  let viaProxy: Store;
  beforeAll(async () => {
    const url = await freshDatabase();
    direct = await Store.open({ databaseUrl: url, logger: quietLogger() });
    await direct.migrate();
    const u = new URL(url);
    proxy = new Proxy(u.hostname, Number(u.port || 5432));
    await proxy.listen();
    u.host = `127.0.0.1:${proxy.port}`;
    viaProxy = await Store.open({ databaseUrl: u.toString(), logger: quietLogger() });
  });
  afterAll(async () => {
    await viaProxy.close().catch(() => undefined);
    await direct.close();
  });

  it('a connection that dies inside a transaction fails the transaction, not the process', async () => {
    const admin = new pg.Client({ connectionString: process.env.BATON_PG_URL });
    await admin.connect();
    const failure = await direct.driver
      .transaction(async (tx) => {
        const [{ pid }] = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
        await admin.query('SELECT pg_terminate_backend($1)', [pid]);
        // The server's goodbye arrives while no statement is running on this connection.
        await sleep(300);
        await tx.query('SELECT 1');
      })
      .catch((err: unknown) => err);
    await admin.end();
    expect(isConnectionError(failure)).toBe(true);
    // The pool hands out a working connection afterwards.
    expect(await direct.driver.query('SELECT 1 AS one')).toEqual([{ one: 1 }]);
  });

  it('reopens one LISTEN connection after an outage, however many reconnects failed meanwhile', async () => {
    const u = new URL((direct.driver as PostgresDriver).url);
    const listenerProxy = new Proxy(u.hostname, Number(u.port || 5432));
    await listenerProxy.listen();
    u.host = `127.0.0.1:${listenerProxy.port}`;
    u.searchParams.set('application_name', 'outage-listener');
    const store = await Store.open({ databaseUrl: u.toString(), logger: quietLogger() });
    const heard: string[] = [];
    await store.driver.listen('outage_channel', (p) => heard.push(p));
    listenerProxy.hangUp();
    // Reconnects fail for a while (each failed attempt once started a loop of its own).
    await sleep(2500);
    await listenerProxy.restore();
    await eventually(
      async () => {
        await direct.driver.notify('outage_channel', 'back');
        return heard.includes('back');
      },
      20_000,
      'a notification after the outage',
    );
    await sleep(1000);
    const [{ n }] = await direct.driver.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'outage-listener' AND query LIKE 'LISTEN%'`,
    );
    expect(n).toBe(1);
    await store.close();
    await listenerProxy.cut();
  });

  it('a worker keeps retrying while the database is down, then resumes and loses nothing', async () => {
    const ran = new Map<number, number>();
    let started = false;
    const job = defineJob('outage', { queue: 'outage' }, async (input: { i: number }) => {
      if (input.i === 0) started = true;
      await sleep(input.i === 0 ? 600 : 1);
      ran.set(input.i, (ran.get(input.i) ?? 0) + 1);
      return input.i;
    });
    const worker = new Worker(viaProxy, { jobs: [job], lease: '20s', pollInterval: 100 });
    await worker.start();
    const client = new Client(direct);
    // Job 0 is running when the database disappears; its completion has to wait for the way back.
    const first = await client.enqueue(job, { i: 0 });
    // Its handler has started: the claim's reply reached the worker (not just the server's commit).
    await eventually(() => started, 10_000, 'job 0 running');
    await proxy.cut();
    const during = await client.enqueueMany(
      job,
      Array.from({ length: 20 }, (_, k) => ({ input: { i: k + 1 } })),
    );
    await sleep(1500);
    expect(ran.size).toBe(1); // job 0's handler finished, nothing else could be claimed
    await proxy.restore();
    for (const d of [first, ...during])
      expect((await client.waitFor(d.id, { timeout: '30s' })).status).toBe('completed');
    expect([...ran.values()].every((n) => n === 1)).toBe(true);
    expect(ran.size).toBe(21);
    await worker.stop();
  });
});

for (const b of backends()) {
  describe(`wake-ups (${b.name})`, () => {
    it('passes the LISTEN self-check, and still finds work that arrived without a NOTIFY by polling', async () => {
      const store = await b.open();
      const job = defineJob('silent', { queue: 'silent' }, async () => 'found');
      const worker = new Worker(store, { jobs: [job], pollInterval: 100 });
      await worker.start();
      expect(worker.listenWorks).toBe(true);
      // A row written straight into the table sends no NOTIFY: only the poll can find it.
      await store.driver.query(
        `INSERT INTO baton.executions (id, name, queue, input) VALUES ('no-notify-1', 'silent', 'silent', 'null')`,
      );
      const e = await new Client(store).waitFor('no-notify-1', { timeout: '10s' });
      expect(e.output).toBe('found');
      await worker.stop();
      await store.close();
    });
  });
}
