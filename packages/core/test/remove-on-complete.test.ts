// A worker with `removeOnComplete`: top-level jobs are deleted in their completion statement, and
// what something else refers to is completed and kept as usual, never left half-deleted.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { backends, eventually, withWorker as runWithWorker } from './backends.js';
import {
  Client,
  NonRetryableError,
  Worker,
  defineJob,
  defineWorkflow,
  type Store,
  type WorkerOptions,
} from '../src/index.js';

/** Ledger rows that name an execution which no longer exists. */
async function orphanedLedgerRows(store: Store): Promise<number> {
  const [r] = await store.driver.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM baton.artifacts a
             WHERE NOT EXISTS (SELECT 1 FROM baton.executions e WHERE e.id = a.execution_id))
          + (SELECT count(*) FROM baton.run_contexts c
             WHERE NOT EXISTS (SELECT 1 FROM baton.executions e WHERE e.id = c.execution_id)) AS n`,
  );
  return Number(r.n);
}

for (const b of backends()) {
  describe(`removeOnComplete (${b.name})`, () => {
    let store: Store;
    let client: Client;
    beforeAll(async () => {
      store = await b.open();
      client = new Client(store);
    });
    afterAll(async () => {
      await store.close();
    });

    const withWorker = <T>(opts: Omit<WorkerOptions, 'removeOnComplete'>, fn: () => Promise<T>) =>
      runWithWorker(store, { ...opts, removeOnComplete: true }, fn);

    it('deletes each top-level job as it completes, after running it once; a failed one stays', async () => {
      const calls = new Map<number, number>();
      const job = defineJob('gone-job', { queue: 'gone' }, async (n: number) => {
        calls.set(n, (calls.get(n) ?? 0) + 1);
        if (n === 0) throw new NonRetryableError('zero is refused');
        return n * 2;
      });
      await withWorker({ jobs: [job], concurrency: 4 }, async () => {
        const handles = await client.enqueueMany(
          job,
          Array.from({ length: 40 }, (_, i) => ({ input: i })),
        );
        // Watched until only the failed job is left: a completed row is never seen.
        let completedSeen = 0;
        await eventually(
          async () => {
            const rows = await client.list({ name: 'gone-job', limit: 100 });
            completedSeen += rows.filter((r) => r.status === 'completed').length;
            return rows.length === 1;
          },
          15_000,
          'every job but the failed one gone',
        );
        expect(completedSeen).toBe(0);
        expect([...calls.keys()].sort((x, y) => x - y)).toEqual(handles.map((_, i) => i));
        expect([...calls.values()].every((c) => c === 1)).toBe(true);
        const [failed] = await client.list({ name: 'gone-job' });
        expect(failed).toMatchObject({ id: handles[0].id, status: 'failed' });
        await expect(client.get(handles[1].id)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      });
    });

    it('keeps, completed with its result, what a parent or the ledger refers to: activities, ledger users, retried jobs', async () => {
      const double = defineJob('kept-activity', { queue: 'gone-kept' }, async (n: number) => n * 2);
      const parent = defineWorkflow('kept-parent', { queue: 'gone-kept' }, async (ctx, n: number) => {
        const a = await ctx.run(double, n);
        return a + (await ctx.run(double, a));
      });
      const recorded = defineJob('kept-ledger', { queue: 'gone-kept' }, async (n: number, ctx) => {
        await ctx.artifacts.put('n.json', { n });
        return n;
      });
      // Its first attempt writes to the ledger and fails; the second writes nothing and succeeds.
      const flaky = defineJob(
        'kept-retried',
        { queue: 'gone-kept', retry: { maxAttempts: 2, baseDelay: 10, jitter: 'none' } },
        async (n: number, ctx) => {
          if (ctx.attempt === 1) {
            await ctx.artifacts.put('attempt-1.txt', `failed try of ${n}`);
            throw new Error('first try fails');
          }
          return n;
        },
      );
      // Fails for good after writing to the ledger; retried by hand (attempts start again at 1).
      let refuse = true;
      const byHand = defineJob('kept-by-hand', { queue: 'gone-kept' }, async (n: number, ctx) => {
        if (refuse) {
          await ctx.artifacts.put('refused.txt', 'no');
          throw new NonRetryableError('refused');
        }
        return n;
      });
      const plain = defineJob('gone-plain', { queue: 'gone-kept' }, async (n: number) => n);
      await withWorker({ jobs: [double, recorded, flaky, byHand, plain], workflows: [parent] }, async () => {
        const flow = await client.start(parent, 5);
        expect(await client.result(flow.id, { timeout: '20s' })).toBe(30);
        const ledger = await client.enqueue(recorded, 7);
        const retried = await client.enqueue(flaky, 9);
        const manual = await client.enqueue(byHand, 11);
        expect((await client.waitFor(manual.id, { timeout: '20s' })).status).toBe('failed');
        refuse = false;
        await client.retry(manual.id);
        expect(await client.result(ledger.id, { timeout: '20s' })).toBe(7);
        expect(await client.result(retried.id, { timeout: '20s' })).toBe(9);
        expect(await client.result(manual.id, { timeout: '20s' })).toBe(11);
        const gone = await client.enqueue(plain, 1);
        await eventually(
          async () => (await client.list({ name: 'gone-plain' })).length === 0,
          15_000,
          'the plain job removed',
        );
        await expect(client.get(gone.id)).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
      });
      const activities = await client.list({ name: 'kept-activity' });
      expect(activities.map((a) => [a.status, a.output]).sort()).toEqual([
        ['completed', 10],
        ['completed', 20],
      ]);
      expect(await orphanedLedgerRows(store)).toBe(0);
    });

    it('refuses a removeOnComplete that is not a boolean', () => {
      const job = defineJob('gone-bad-option', {}, async () => 1);
      expect(() => new Worker(store, { jobs: [job], removeOnComplete: 'yes' as never })).toThrow(
        expect.objectContaining({
          code: 'E_INVALID_OPTION',
          message: "worker removeOnComplete must be true or false, got 'yes'",
        }),
      );
    });
  });
}
