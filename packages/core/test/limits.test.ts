import { describe, it, expect } from 'vitest';
import { backends, eventually, sleep, quietLogger } from './backends.js';
import { Client, Store, Worker, defineJob, defineWorkflow } from '../src/index.js';
import type { PostgresDriver } from '../src/driver/postgres.js';

/** Tracks how many handlers run at once, overall and per key. */
function tracker() {
  const now = new Map<string, number>();
  const max = new Map<string, number>();
  return {
    enter(key: string) {
      for (const k of [key, '*']) {
        const n = (now.get(k) ?? 0) + 1;
        now.set(k, n);
        max.set(k, Math.max(max.get(k) ?? 0, n));
      }
    },
    leave(key: string) {
      for (const k of [key, '*']) now.set(k, now.get(k)! - 1);
    },
    max,
  };
}

for (const b of backends()) {
  describe(`global limits (${b.name})`, () => {
    /** Two workers; on PostgreSQL each has its own connection pool, as on two machines. */
    async function twoStores(): Promise<[Store, Store]> {
      const first = await b.open();
      if (b.name === 'pglite') return [first, first];
      const url = (first.driver as PostgresDriver).url;
      return [first, await Store.open({ databaseUrl: url, logger: quietLogger() })];
    }

    it('never runs two jobs of one concurrency key at once, across two workers', async () => {
      const [s1, s2] = await twoStores();
      const t = tracker();
      let done = 0;
      const job = defineJob('keyed', { queue: 'keyed' }, async (input: { key: string }) => {
        t.enter(input.key);
        await sleep(15);
        t.leave(input.key);
        done++;
      });
      const client = new Client(s1);
      const items = Array.from({ length: 60 }, (_, i) => ({
        input: { key: `k${i % 3}` },
        options: { concurrencyKey: `k${i % 3}` },
      }));
      await client.enqueueMany(job, items);
      const workers = [
        new Worker(s1, { jobs: [job], concurrency: 6, prefetch: 6, pollInterval: 20 }),
        new Worker(s2, { jobs: [job], concurrency: 6, prefetch: 6, pollInterval: 20 }),
      ];
      await Promise.all(workers.map((w) => w.start()));
      await eventually(() => done === 60, 30_000, '60 keyed jobs');
      await Promise.all(workers.map((w) => w.stop()));
      expect(t.max.get('k0')).toBe(1);
      expect(t.max.get('k1')).toBe(1);
      expect(t.max.get('k2')).toBe(1);
      // Different keys still run side by side.
      expect(t.max.get('*')).toBeGreaterThan(1);
      await s1.close();
      if (s2 !== s1) await s2.close();
    });

    it('honours a per-key limit above one and a global queue concurrency limit', async () => {
      const [s1, s2] = await twoStores();
      const t = tracker();
      let done = 0;
      const job = defineJob('limited', { queue: 'narrow' }, async (input: { key: string }) => {
        t.enter(input.key);
        await sleep(10);
        t.leave(input.key);
        done++;
      });
      const client = new Client(s1);
      await client.enqueueMany(
        job,
        Array.from({ length: 30 }, () => ({
          input: { key: 'two' },
          options: { concurrencyKey: 'two', concurrencyLimit: 2 },
        })),
      );
      const workers = [s1, s2].map((s) => new Worker(s, { jobs: [job], concurrency: 5, pollInterval: 20 }));
      await Promise.all(workers.map((w) => w.start()));
      await eventually(() => done === 30, 30_000, 'keyed jobs');
      expect(t.max.get('two')).toBe(2);

      await client.configureQueue('narrow', { concurrency: 3 });
      await Promise.all(workers.map((w) => w.stop()));
      const t2 = tracker();
      let done2 = 0;
      const wide = defineJob('limited', { queue: 'narrow' }, async () => {
        t2.enter('q');
        await sleep(10);
        t2.leave('q');
        done2++;
      });
      await client.enqueueMany(
        wide,
        Array.from({ length: 40 }, () => ({ input: {} })),
      );
      const again = [s1, s2].map((s) => new Worker(s, { jobs: [wide], concurrency: 5, pollInterval: 20 }));
      await Promise.all(again.map((w) => w.start()));
      await eventually(() => done2 === 40, 30_000, 'queue-limited jobs');
      await Promise.all(again.map((w) => w.stop()));
      expect(t2.max.get('q')).toBe(3);
      await s1.close();
      if (s2 !== s1) await s2.close();
    });

    it('wakes every worker when a limit slot frees, so limited work never waits for a poll', async () => {
      const [s1, s2] = await twoStores();
      const t = tracker();
      let done = 0;
      const job = defineJob('slotted', { queue: 'slotted' }, async (input: { key: string }) => {
        t.enter(input.key);
        await sleep(5);
        t.leave(input.key);
        done++;
      });
      const client = new Client(s1);
      await client.configureQueue('capped', { concurrency: 2 });
      await client.enqueueMany(job, [
        ...Array.from({ length: 40 }, (_, i) => ({
          input: { key: `k${i % 2}` },
          options: { concurrencyKey: `k${i % 2}` },
        })),
        ...Array.from({ length: 30 }, () => ({ input: { key: 'capped' }, options: { queue: 'capped' } })),
      ]);
      // Polling once a minute: only the wake-ups sent as slots free can finish this in time.
      const workers = [s1, s2].map(
        (s) =>
          new Worker(s, { jobs: [job], queues: ['slotted', 'capped'], concurrency: 4, pollInterval: 60_000 }),
      );
      await Promise.all(workers.map((w) => w.start()));
      await eventually(() => done === 70, 20_000, '70 limited jobs without polling');
      await Promise.all(workers.map((w) => w.stop()));
      expect(t.max.get('k0')).toBe(1);
      expect(t.max.get('k1')).toBe(1);
      expect(t.max.get('capped')).toBe(2);
      await s1.close();
      if (s2 !== s1) await s2.close();
    });

    it('gives back its queue slot while a workflow waits, so a limited queue does not fill with sleepers', async () => {
      const store = await b.open();
      const client = new Client(store);
      await client.configureQueue('one-at-a-time', { concurrency: 1 });
      const wf = defineWorkflow('waits-for-go', { queue: 'one-at-a-time' }, async (ctx) =>
        ctx.waitForSignal('go'),
      );
      const w = new Worker(store, { workflows: [wf], pollInterval: 50 });
      await w.start();
      const ids = await Promise.all([1, 2, 3].map((n) => client.start(wf, null, { id: `sleeper-${n}` })));
      // With the slot kept while waiting, only the first would ever start.
      for (const { id } of ids)
        await eventually(async () => (await client.get(id)).status === 'waiting', 10_000, `${id} waiting`);
      for (const { id } of ids) await client.signal(id, 'go', id);
      for (const { id } of ids) expect(await client.result(id, { timeout: '10s' })).toBe(id);
      await w.stop();
      await store.close();
    });

    it('rate-limits a queue globally (N starts per interval)', async () => {
      const [s1, s2] = await twoStores();
      let done = 0;
      const job = defineJob('rated', { queue: 'rated' }, async () => {
        done++;
      });
      const client = new Client(s1);
      await client.configureQueue('rated', { rateLimit: { limit: 5, interval: 500 } });
      const ids = await client.enqueueMany(
        job,
        Array.from({ length: 16 }, () => ({ input: null })),
      );
      const workers = [s1, s2].map((s) => new Worker(s, { jobs: [job], concurrency: 10, pollInterval: 20 }));
      await Promise.all(workers.map((w) => w.start()));
      await eventually(() => done === 16, 30_000, 'rate-limited jobs');
      await Promise.all(workers.map((w) => w.stop()));
      const starts = (await Promise.all(ids.map((x) => client.get(x.id))))
        .map((e) => e.startedAt!.getTime())
        .sort((a, b) => a - b);
      // A bucket of 5 refilled at 5 per 500 ms: any 11 consecutive starts span at least 600 ms.
      for (let i = 0; i + 10 < starts.length; i++)
        expect(starts[i + 10] - starts[i]).toBeGreaterThanOrEqual(595);
      await s1.close();
      if (s2 !== s1) await s2.close();
    });
  });
}
