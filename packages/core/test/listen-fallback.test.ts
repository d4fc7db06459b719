// A worker whose connection does not deliver NOTIFY (as behind a transaction-mode pooler such as
// PgBouncer): its start-up self-check says so, and it still runs everything by polling.
import { describe, it, expect, afterEach } from 'vitest';
import net from 'node:net';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { freshDatabase, quietLogger } from './backends.js';
import { Client, Store, Worker, defineJob } from '../src/index.js';

const PG = process.env.BATON_PG_URL;

/**
 * Forwards a local port to PostgreSQL, passing everything through except the server's
 * NotificationResponse messages ('A'), which it drops: LISTEN succeeds, no notification arrives.
 * Server-to-client traffic is a stream of typed messages (type byte, then a 4-byte length that
 * counts itself), so it can be cut into messages without understanding them.
 */
class NotifyDroppingProxy {
  private server: net.Server | undefined;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  dropped = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async listen(): Promise<void> {
    this.server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream);
      let pending = Buffer.alloc(0);
      upstream.on('data', (chunk: Buffer) => {
        pending = Buffer.concat([pending, chunk]);
        const keep: Buffer[] = [];
        let at = 0;
        while (pending.length - at >= 5) {
          const size = 1 + pending.readInt32BE(at + 1);
          if (pending.length - at < size) break;
          if (pending[at] === 0x41) this.dropped++;
          else keep.push(pending.subarray(at, at + size));
          at += size;
        }
        pending = pending.subarray(at);
        if (keep.length > 0) client.write(Buffer.concat(keep));
      });
      upstream.on('end', () => client.end());
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }

  async close(): Promise<void> {
    const closed = new Promise<void>((r) => this.server!.close(() => r()));
    for (const s of this.sockets) s.destroy();
    await closed;
  }
}

describe.skipIf(!PG)('LISTEN/NOTIFY not delivered', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c().catch(() => undefined);
  });

  it('says so at start, and runs enqueued jobs by polling', async () => {
    const url = new URL(await freshDatabase());
    const direct = await Store.open({ databaseUrl: url.toString(), logger: quietLogger() });
    cleanups.push(() => direct.close());
    await direct.migrate();

    const proxy = new NotifyDroppingProxy(url.hostname, Number(url.port || 5432));
    await proxy.listen();
    cleanups.push(() => proxy.close());
    const viaProxy = new URL(url);
    viaProxy.host = `127.0.0.1:${proxy.port}`;
    const lines: { level: number; msg: string; pollMs?: number }[] = [];
    const logger = pino(
      { level: 'warn', base: undefined },
      new Writable({
        write(chunk: Buffer, _enc, done) {
          lines.push(JSON.parse(chunk.toString()) as (typeof lines)[number]);
          done();
        },
      }),
    );
    const store = await Store.open({ databaseUrl: viaProxy.toString(), logger });
    cleanups.push(() => store.close());

    const job = defineJob('polled', { queue: 'no-notify' }, async (n: number) => n * 2);
    const worker = new Worker(store, { jobs: [job], pollInterval: 300 });
    await worker.start();
    cleanups.push(() => worker.stop({ deadline: 2000 }));

    expect(worker.listenWorks).toBe(false);
    expect(proxy.dropped).toBeGreaterThan(0);
    expect(lines).toContainEqual(
      expect.objectContaining({
        pollMs: 300,
        msg: expect.stringMatching(
          /LISTEN\/NOTIFY did not deliver a test notification .* falling back to polling/,
        ),
      }),
    );

    // Enqueued elsewhere: the NOTIFY that would wake the worker is dropped, the poll finds the job.
    const client = new Client(direct, [job]);
    const { id } = await client.enqueue(job, 21);
    expect(await client.result(id, { timeout: '10s' })).toBe(42);
  });

  it('says nothing when notifications do arrive', async () => {
    const store = await Store.open({ databaseUrl: await freshDatabase(), logger: quietLogger() });
    cleanups.push(() => store.close());
    await store.migrate();
    const worker = new Worker(store, { jobs: [defineJob('heard', {}, async () => null)] });
    await worker.start();
    cleanups.push(() => worker.stop({ deadline: 2000 }));
    expect(worker.listenWorks).toBe(true);
  });
});
