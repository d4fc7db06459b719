import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { backends, eventually, sleep, withWorker as runWithWorker } from './backends.js';
import {
  Client,
  NonRetryableError,
  Worker,
  defineJob,
  defineWorkflow,
  isBatonError,
  type Store,
  type WorkerOptions,
} from '../src/index.js';

for (const b of backends()) {
  describe(`jobs (${b.name})`, () => {
    let store: Store;
    let client: Client;
    beforeAll(async () => {
      store = await b.open();
      client = new Client(store);
    });
    afterAll(async () => {
      await store.close();
    });

    const withWorker = <T>(opts: WorkerOptions, fn: (w: Worker) => Promise<T>) =>
      runWithWorker(store, opts, fn);

    it('stores the result and the context a handler sees', async () => {
      const job = defineJob(
        'ctx-echo',
        { queue: 'ctx', retry: { maxAttempts: 4 } },
        async (input: { n: number }, ctx) => {
          // Handlers may take the context apart.
          const { heartbeat, signal, logger } = ctx;
          heartbeat();
          logger.debug('echoing');
          return {
            n: input.n,
            id: ctx.id,
            attempt: ctx.attempt,
            max: ctx.maxAttempts,
            queue: ctx.queue,
            aborted: signal.aborted,
          };
        },
      );
      await withWorker({ jobs: [job] }, async () => {
        const { id, created } = await client.enqueue(job, { n: 7 });
        expect(created).toBe(true);
        expect(await client.result(id)).toEqual({
          n: 7,
          id,
          attempt: 1,
          max: 4,
          queue: 'ctx',
          aborted: false,
        });
        const e = await client.get(id);
        expect(e.status).toBe('completed');
        expect(e.attempts).toBe(1);
        expect(e.finishedAt!.getTime()).toBeGreaterThanOrEqual(e.startedAt!.getTime());
      });
    });

    it('enqueues thousands in one call and runs each exactly once', async () => {
      const counts = new Map<number, number>();
      const job = defineJob('bulk', { queue: 'bulk' }, async (input: { i: number }) => {
        counts.set(input.i, (counts.get(input.i) ?? 0) + 1);
      });
      const items = Array.from({ length: 3000 }, (_, i) => ({ input: { i } }));
      const out = await client.enqueueMany(job, items);
      expect(out).toHaveLength(3000);
      expect(new Set(out.map((o) => o.id)).size).toBe(3000);
      await withWorker({ jobs: [job], concurrency: 8, prefetch: 200 }, async () => {
        await eventually(() => counts.size === 3000, 30_000, '3000 jobs');
        await sleep(100);
      });
      expect([...counts.values()].every((c) => c === 1)).toBe(true);
      const done = await store.driver.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM baton.executions WHERE name = 'bulk' AND status = 'completed'`,
      );
      expect(done[0].n).toBe(3000);
    });

    it('serves higher priority first and respects delays and run-at times', async () => {
      const order: string[] = [];
      const job = defineJob('prio', { queue: 'prio' }, async (input: { tag: string }) => {
        order.push(input.tag);
      });
      await client.enqueue(job, { tag: 'low' }, { priority: -5 });
      await client.enqueue(job, { tag: 'high' }, { priority: 10 });
      await client.enqueue(job, { tag: 'mid' });
      const delayed = await client.enqueue(job, { tag: 'delayed' }, { delay: '700ms' });
      const at = await client.enqueue(job, { tag: 'at' }, { runAt: new Date(Date.now() + 400) });
      await withWorker({ jobs: [job], concurrency: 1, prefetch: 0 }, async () => {
        await eventually(() => order.length === 5, 10_000, 'five jobs');
      });
      expect(order).toEqual(['high', 'mid', 'low', 'at', 'delayed']);
      const d = await client.get(delayed.id);
      expect(d.startedAt!.getTime() - d.createdAt.getTime()).toBeGreaterThanOrEqual(650);
      const a = await client.get(at.id);
      expect(a.startedAt!.getTime()).toBeGreaterThanOrEqual(a.runAt.getTime());
    });

    it('deduplicates by idempotency key, also inside one batch', async () => {
      const job = defineJob('idem', { queue: 'idem' }, async () => 'ok');
      const a = await client.enqueue(job, { v: 1 }, { idempotencyKey: 'order-1' });
      const b = await client.enqueue(job, { v: 2 }, { idempotencyKey: 'order-1' });
      expect(b).toEqual({ id: a.id, created: false });
      const batch = await client.enqueueMany(job, [
        { input: 1, options: { idempotencyKey: 'k2' } },
        { input: 2, options: { idempotencyKey: 'k2' } },
        { input: 3, options: { idempotencyKey: 'order-1' } },
        { input: 4 },
      ]);
      expect(batch[0].created).toBe(true);
      expect(batch[1]).toEqual({ id: batch[0].id, created: false });
      expect(batch[2]).toEqual({ id: a.id, created: false });
      expect(batch[3].created).toBe(true);
      expect((await client.get(a.id)).input).toEqual({ v: 1 });
      // The same key under another job name is a different execution.
      const other = defineJob('idem-other', { queue: 'idem' }, async () => 'ok');
      expect((await client.enqueue(other, null, { idempotencyKey: 'order-1' })).created).toBe(true);
    });

    it('retries with backoff, then succeeds', async () => {
      const job = defineJob(
        'flaky',
        { queue: 'flaky', retry: { maxAttempts: 3, baseDelay: 100, jitter: 'none' } },
        async (_: null, ctx) => {
          if (ctx.attempt < 3) throw new Error(`boom ${ctx.attempt}`);
          return ctx.attempt;
        },
      );
      await withWorker({ jobs: [job] }, async () => {
        const { id } = await client.enqueue(job, null);
        expect(await client.result(id)).toBe(3);
        const e = await client.get(id);
        expect(e.attempts).toBe(3);
        expect(e.errors.map((x) => x.message)).toEqual(['boom 1', 'boom 2']);
        // 100 ms then 200 ms of backoff separate the three attempts.
        expect(e.finishedAt!.getTime() - e.createdAt.getTime()).toBeGreaterThanOrEqual(290);
      });
    });

    it('fails after the last attempt, and at once on a NonRetryableError; failed jobs can be retried by hand', async () => {
      let fixed = false;
      const always = defineJob(
        'always-fails',
        { queue: 'fail', retry: { maxAttempts: 2, baseDelay: 10 } },
        async () => {
          if (!fixed) throw new TypeError('still broken');
          return 'fixed';
        },
      );
      const fatal = defineJob('fatal', { queue: 'fail', retry: { maxAttempts: 5 } }, async () => {
        throw new NonRetryableError('bad input, never retry');
      });
      await withWorker({ jobs: [always, fatal] }, async () => {
        const a = await client.enqueue(always, null);
        const f = await client.enqueue(fatal, null);
        const ea = await client.waitFor(a.id);
        expect(ea.status).toBe('failed');
        expect(ea.attempts).toBe(2);
        expect(ea.error).toMatchObject({ name: 'TypeError', message: 'still broken', attempt: 2 });
        const ef = await client.waitFor(f.id);
        expect(ef.status).toBe('failed');
        expect(ef.attempts).toBe(1);
        expect(ef.error?.code).toBe('E_NON_RETRYABLE');
        await expect(client.result(f.id)).rejects.toMatchObject({ code: 'E_JOB_FAILED' });

        fixed = true;
        await client.retry(a.id);
        expect(await client.result(a.id)).toBe('fixed');
        expect((await client.get(a.id)).errors).toHaveLength(2);
        await expect(client.retry(a.id)).rejects.toMatchObject({ code: 'E_INVALID_STATE' });
      });
    });

    it('keeps timeouts longer than a Node timer can hold (24.8 days) from firing at once', async () => {
      const job = defineJob(
        'patient',
        { queue: 'long-timeouts', timeout: '30d', heartbeatTimeout: '40d', retry: { maxAttempts: 1 } },
        async () => {
          await sleep(100);
          return 'finished';
        },
      );
      await withWorker({ jobs: [job] }, async () => {
        const e = await client.waitFor((await client.enqueue(job, null)).id, { timeout: '10s' });
        expect([e.status, e.output, e.error]).toEqual(['completed', 'finished', null]);
      });
    });

    it('aborts an attempt that passes its timeout and counts it as failed', async () => {
      let sawAbort = false;
      const job = defineJob(
        'slowpoke',
        { queue: 'timeout', timeout: 150, retry: { maxAttempts: 1 } },
        async (_: null, ctx) => {
          await new Promise<void>((resolve) => ctx.signal.addEventListener('abort', () => resolve()));
          sawAbort = true;
        },
      );
      const ignores = defineJob(
        'ignores-signal',
        { queue: 'timeout', timeout: 100, retry: { maxAttempts: 1 } },
        async () => {
          await sleep(1500);
        },
      );
      await withWorker({ jobs: [job, ignores] }, async () => {
        const e = await client.waitFor((await client.enqueue(job, null)).id);
        expect(e.status).toBe('failed');
        expect(e.error?.code).toBe('E_TIMEOUT');
        expect(sawAbort).toBe(true);
        // A handler that ignores its signal still has its attempt ended on time.
        const start = Date.now();
        const i = await client.waitFor((await client.enqueue(ignores, null)).id);
        expect(i.error?.code).toBe('E_TIMEOUT');
        expect(Date.now() - start).toBeLessThan(1400);
      });
    });

    it('aborts an attempt that stops heartbeating, and stores reported progress', async () => {
      const job = defineJob(
        'beats',
        { queue: 'hb', heartbeatTimeout: 300, retry: { maxAttempts: 1 } },
        async (input: { stallAt: number }, ctx) => {
          for (let i = 1; i <= 5; i++) {
            if (i === input.stallAt) await sleep(2000);
            ctx.heartbeat({ step: i });
            await sleep(60);
          }
          return 'done';
        },
      );
      // The worker's lease (beats every 300 ms) outlasts the job's heartbeat timeout, so the stalled
      // attempt fails by its own timeout, not by a lease a busy machine let lapse.
      await withWorker({ jobs: [job], lease: 900 }, async () => {
        const ok = await client.enqueue(job, { stallAt: 0 });
        expect(await client.result(ok.id)).toBe('done');
        const stalled = await client.waitFor((await client.enqueue(job, { stallAt: 3 })).id);
        expect(stalled.status).toBe('failed');
        expect(stalled.error?.message).toMatch(/no heartbeat for 300 ms/);
        expect(stalled.progress).toEqual({ step: 2 });
      });
    });

    it('completes jobs whose row changed while they ran (stored progress), keeping the progress', async () => {
      const job = defineJob('moved-row', { queue: 'moved' }, async (input: { i: number }, ctx) => {
        if (input.i % 2 === 1) {
          // Reported progress is written into the row by the worker's heartbeat.
          ctx.heartbeat({ i: input.i });
          await eventually(
            async () => ((await client.get(ctx.id)).progress as { i?: number } | null)?.i === input.i,
            5000,
            'the progress to be stored',
          );
        }
        return { doubled: input.i * 2 };
      });
      await withWorker({ jobs: [job], lease: 300, concurrency: 8 }, async () => {
        const enqueued = await client.enqueueMany(
          job,
          Array.from({ length: 8 }, (_, i) => ({ input: { i } })),
        );
        for (const [i, e] of enqueued.entries()) {
          expect(await client.result(e.id, { timeout: '10s' })).toEqual({ doubled: i * 2 });
          const done = await client.get(e.id);
          expect(done.status).toBe('completed');
          expect(done.progress).toEqual(i % 2 === 1 ? { i } : null);
        }
      });
    });

    it('cancels a queued job at once and a running one through its AbortSignal', async () => {
      let started = false;
      let abortedWith: unknown;
      const job = defineJob('cancellable', { queue: 'cancel' }, async (_: null, ctx) => {
        started = true;
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => {
            abortedWith = ctx.signal.reason;
            resolve();
          }),
        );
        throw ctx.signal.reason;
      });
      const queued = await client.enqueue(job, null, { delay: '1h' });
      expect(await client.cancel(queued.id)).toEqual({ status: 'cancelled' });
      expect((await client.get(queued.id)).status).toBe('cancelled');
      await expect(client.cancel(queued.id)).rejects.toMatchObject({ code: 'E_INVALID_STATE' });
      await withWorker({ jobs: [job] }, async () => {
        const { id } = await client.enqueue(job, null);
        await eventually(() => started, 10_000, 'job start');
        expect(await client.cancel(id)).toEqual({ status: 'cancelling' });
        const e = await client.waitFor(id);
        expect(e.status).toBe('cancelled');
        expect(isBatonError(abortedWith, 'E_CANCELLED')).toBe(true);
      });
    });

    it('validates input against a schema when enqueued', async () => {
      const schema = {
        parse(v: unknown): { to: string } {
          if (typeof v !== 'object' || v === null || typeof (v as { to?: unknown }).to !== 'string')
            throw new Error('to must be a string');
          return v as { to: string };
        },
      };
      const job = defineJob('typed', { queue: 'typed', schema }, async (input: { to: string }) => input.to);
      await expect(client.enqueue(job, { to: 5 } as never)).rejects.toMatchObject({
        code: 'E_INPUT_INVALID',
      });
      await expect(client.enqueue(job, { to: 5 } as never)).rejects.toThrow(/to must be a string/);
      await withWorker({ jobs: [job] }, async () => {
        expect(await client.result((await client.enqueue(job, { to: 'a@b.c' })).id)).toBe('a@b.c');
      });
    });

    it('serves definitions added while it runs: their waiting executions run, on a queue it did not serve', async () => {
      const first = defineJob('serve-first', { queue: 'serve-a' }, (n: number) => n + 1);
      const later = defineJob('serve-later', { queue: 'serve-b' }, (n: number) => n * 10);
      const flow = defineWorkflow('serve-flow', { queue: 'serve-b' }, async (ctx, n: number) =>
        ctx.step('double', () => n * 2),
      );
      await withWorker({ jobs: [first] }, async (w) => {
        const waiting = await client.enqueue(later, 4);
        const started = await client.start(flow, 5);
        expect(await client.result((await client.enqueue(first, 1)).id)).toBe(2);
        await sleep(150); // a few polls: the worker does not take what it does not serve
        expect((await client.get(waiting.id)).status).toBe('queued');

        // A second definition under a served name is refused, and changes nothing.
        const impostor = defineJob('serve-first', { queue: 'serve-b' }, () => 0);
        await expect(w.serve({ jobs: [impostor, later] })).rejects.toMatchObject({
          code: 'E_DUPLICATE_DEFINITION',
        });
        expect((await client.get(waiting.id)).status).toBe('queued');

        await w.serve({ jobs: [first, later], workflows: [flow] });
        expect(await client.result(waiting.id)).toBe(40);
        expect(await client.result(started.id)).toBe(10);
        const [row] = await store.driver.query<{ queues: string[]; names: string[] }>(
          'SELECT queues, names FROM baton.workers WHERE id = $1',
          [w.id],
        );
        expect(row!.queues.sort()).toEqual(['serve-a', 'serve-b']);
        expect(row!.names.sort()).toEqual(['serve-first', 'serve-flow', 'serve-later']);
      });
    });

    it('lists and filters executions, and prunes finished ones past retention', async () => {
      const job = defineJob('prunable', { queue: 'prune' }, async () => 1);
      await withWorker({ jobs: [job] }, async () => {
        const ids = await client.enqueueMany(job, [{ input: 1 }, { input: 2 }]);
        for (const x of ids) await client.waitFor(x.id);
      });
      const queued = await client.enqueue(job, 3);
      const listed = await client.list({ name: 'prunable' });
      expect(listed.map((e) => e.status).sort()).toEqual(['completed', 'completed', 'queued']);
      expect(listed[0].id).toBe(queued.id);
      expect(await client.list({ name: 'prunable', status: 'completed', limit: 1 })).toHaveLength(1);
      // A filter value that no execution can have is a mistake, not an empty list.
      await expect(client.list({ status: 'done' as never })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        message:
          "list status must be one of queued, running, waiting, completed, failed, cancelled, got 'done'",
      });
      await expect(client.list({ kind: 'task' as never })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        message: "list kind must be one of job, workflow, activity, got 'task'",
      });
      // Search: id or name, case-insensitive; LIKE's wildcards match only themselves.
      expect((await client.list({ search: 'PRUNA' })).map((e) => e.id).sort()).toEqual(
        listed.map((e) => e.id).sort(),
      );
      expect(await client.list({ search: 'pr_nable' })).toEqual([]);
      expect(await client.list({ search: '%' })).toEqual([]);
      expect((await client.list({ search: queued.id.slice(-12) })).map((e) => e.id)).toEqual([queued.id]);
      const created = listed.map((e) => e.createdAt.getTime());
      expect(
        await client.list({ name: 'prunable', createdAfter: new Date(Math.max(...created) + 1) }),
      ).toEqual([]);
      expect(
        await client.list({ name: 'prunable', createdBefore: new Date(Math.max(...created) + 1) }),
      ).toHaveLength(3);
      await expect(client.list({ createdAfter: new Date('nope') })).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        message: 'list createdAfter must be a valid Date, got object',
      });
      await store.driver.query(
        `UPDATE baton.executions SET finished_at = now() - interval '8 days' WHERE name = 'prunable' AND status = 'completed'`,
      );
      const pruned = await client.prune({ completed: '7d' });
      expect(pruned).toBe(2);
      const left = await client.list({ name: 'prunable' });
      expect(left.map((e) => e.id)).toEqual([queued.id]);
    });
  });
}
