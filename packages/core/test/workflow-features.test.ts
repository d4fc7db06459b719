// Workflow features of engine round 2, on both backends: starting later, a workflow timeout,
// handles, races that replay alike, continueAsNew, isReplaying and ctx.log, dead letters.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { Writable } from 'node:stream';
import { pino } from 'pino';
import { backends, eventually, sleep, withWorker as runWithWorker } from './backends.js';
import { interceptStatements } from './intercept.js';
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
  describe(`workflow features (${b.name})`, () => {
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

    describe('starting later', () => {
      it('holds a workflow started with runAt or delay until then; a runAt in the past means now', async () => {
        const ran: string[] = [];
        const wf = defineWorkflow('later', { queue: 'later' }, async (ctx, tag: string) => {
          ran.push(tag);
          return ctx.step('s', () => tag);
        });
        await withWorker({ workflows: [wf] }, async () => {
          const at = new Date(Date.now() + 600);
          const byDate = await client.start(wf, 'at', { runAt: at });
          const byDelay = await client.start(wf, 'delay', { delay: '600ms' });
          const past = await client.start(wf, 'past', { runAt: new Date(Date.now() - 3_600_000) });
          expect(await client.result(past.id, { timeout: '10s' })).toBe('past');
          expect((await client.get(byDate.id)).status).toBe('queued');
          expect((await client.get(byDelay.id)).status).toBe('queued');
          expect(ran).toEqual(['past']);
          expect(await client.result(byDate.id, { timeout: '10s' })).toBe('at');
          expect(await client.result(byDelay.id, { timeout: '10s' })).toBe('delay');
          expect((await client.get(byDate.id)).startedAt!.getTime()).toBeGreaterThanOrEqual(at.getTime() - 5);
        });
      });

      it('refuses a negative delay, a delay beside a runAt, and a timeout under 1 ms', async () => {
        const wf = defineWorkflow('later-bad', { queue: 'later-bad' }, async () => null);
        for (const options of [
          { delay: -5 },
          { delay: '-1s' },
          { delay: 10, runAt: new Date() },
          { timeout: 0 },
        ]) {
          const err = await client.start(wf, null, options).catch((e: unknown) => e);
          expect(isBatonError(err, 'E_INVALID_OPTION'), JSON.stringify(options)).toBe(true);
        }
        expect(() => defineWorkflow('zero-timeout', { timeout: '0ms' }, async () => null)).toThrow(
          /at least 1 ms/,
        );
        expect(await client.list({ name: 'later-bad' })).toEqual([]);
      });
    });

    describe('waking a workflow when what it waits for ends', () => {
      it('resumes a parent when its activities end, and one whose activity ended while it ran, without waiting for a poll', async () => {
        const inc = defineJob('wake-inc', { queue: 'wake' }, async (n: number) => n + 1);
        const wf = defineWorkflow('wake-chain', { queue: 'wake' }, async (ctx, n: number) => {
          let x = n;
          for (let i = 0; i < 3; i++) x = await ctx.run(inc, x);
          // two at once: the first often ends while the workflow still runs (it suspends due)
          const [a, b] = await Promise.all([ctx.run(inc, x), ctx.run(inc, x + 10)]);
          return a + b;
        });
        // A poll far beyond the test's timeout: only the wake-ups can move the workflow on.
        const w = new Worker(store, { workflows: [wf], jobs: [inc], pollInterval: '10m' });
        await w.start();
        try {
          const { id } = await client.start(wf, 0);
          expect(await client.result(id, { timeout: '30s' })).toBe(4 + 14);
        } finally {
          await w.stop({ deadline: 2000 });
        }
      });
    });

    describe('starting beside the worker', () => {
      it('hands the first run the input as a replay reads it back (jsonb key order), so code that iterates its keys replays alike', async () => {
        const wf = defineWorkflow(
          'key-order',
          { queue: 'key-order' },
          async (_ctx, input: Record<string, number>) => Object.keys(input),
        );
        await withWorker({ workflows: [wf] }, async () => {
          // jsonb orders keys by length, then bytes: 'b' before 'aa'
          const { id } = await client.start(wf, { aa: 1, b: 2 });
          const stored = await store.driver.query<{ input: Record<string, number> }>(
            'SELECT input FROM baton.executions WHERE id = $1',
            [id],
          );
          expect(await client.result(id, { timeout: '10s' })).toEqual(Object.keys(stored[0]!.input));
          expect(Object.keys(stored[0]!.input)).toEqual(['b', 'aa']);
        });
      });
    });

    describe('startMany', () => {
      it('inserts in the caller’s transaction: the runs exist only if it commits; starting an id again returns it', async () => {
        const wf = defineWorkflow('many', { queue: 'many' }, async (ctx, n: number) =>
          ctx.step('s', () => n * 2),
        );
        await store.driver
          .transaction(async (tx) => {
            await client.startMany(wf, [{ id: 'many-rolled-back', input: 1 }], { db: tx });
            throw new Error('abort');
          })
          .catch(() => undefined);
        expect(await client.list({ name: 'many' })).toEqual([]);
        await store.driver.transaction((tx) =>
          client.startMany(
            wf,
            [1, 2, 3].map((n) => ({ id: `many-${n}`, input: n })),
            { db: tx },
          ),
        );
        const again = await client.startMany(wf, [{ id: 'many-1', input: 9 }]);
        expect(again).toEqual([{ id: 'many-1', created: false }]);
        await withWorker({ workflows: [wf] }, async () => {
          for (const n of [1, 2, 3]) expect(await client.result(`many-${n}`, { timeout: '10s' })).toBe(n * 2);
        });
      });

      it('with waitFirst, a run begins suspended: a signal starts it at once, else it starts when due', async () => {
        const started: string[] = [];
        const wf = defineWorkflow('many-wait', { queue: 'many-wait' }, async (ctx, tag: string) => {
          started.push(tag);
          return ctx.waitForSignal('go', { timeout: 1 });
        });
        await withWorker({ workflows: [wf] }, async () => {
          await client.startMany(wf, [
            { id: 'wait-signalled', input: 'signalled', waitFirst: '1h' },
            { id: 'wait-timer', input: 'timer', waitFirst: 500 },
          ]);
          expect((await client.get('wait-signalled')).status).toBe('waiting');
          await sleep(200);
          expect(started).toEqual([]);
          await client.signal('wait-signalled', 'go', { ok: true });
          expect(await client.result('wait-signalled', { timeout: '10s' })).toEqual({ ok: true });
          expect(await client.result('wait-timer', { timeout: '10s' })).toBeNull();
          expect(started.sort()).toEqual(['signalled', 'timer']);
        });
      });
    });

    describe('timeout', () => {
      it('fails a workflow past its timeout with E_TIMEOUT, aborting its running step and cancelling what it started', async () => {
        let stepSaw: unknown;
        let activitySaw: unknown;
        const hang = defineJob('timeout-activity', { queue: 'timeout' }, async (_: null, ctx) => {
          await new Promise((resolve) => ctx.signal.addEventListener('abort', resolve));
          activitySaw = (ctx.signal.reason as { code?: string })?.code;
        });
        const wf = defineWorkflow('timing-out', { queue: 'timeout', timeout: '400ms' }, async (ctx) => {
          const handle = await ctx.startActivity(hang, null);
          await ctx.step('forever', async (s) => {
            await new Promise((resolve) => s.signal.addEventListener('abort', resolve));
            stepSaw = (s.signal.reason as { code?: string })?.code;
          });
          return handle.result();
        });
        await withWorker({ workflows: [wf], jobs: [hang] }, async () => {
          const { id } = await client.start(wf, null);
          const e = await client.waitFor(id, { timeout: '10s' });
          expect(e.status).toBe('failed');
          expect(e.error?.code).toBe('E_TIMEOUT');
          expect(e.deadlineAt).toBeInstanceOf(Date);
          await eventually(() => stepSaw !== undefined && activitySaw !== undefined, 10_000, 'both aborts');
          expect(stepSaw).toBe('E_TIMEOUT');
          expect(activitySaw).toBe('E_CANCELLED');
          expect((await client.waitFor(`${id}:0`, { timeout: '10s' })).status).toBe('cancelled');
        });
      });

      it('times out a suspended workflow at its deadline, and a per-start timeout overrides the definition', async () => {
        const wf = defineWorkflow('timeout-waits', { queue: 'timeout2', timeout: '1h' }, async (ctx) => {
          await ctx.waitForSignal('never');
          return 'unreachable';
        });
        await withWorker({ workflows: [wf] }, async () => {
          const long = await client.start(wf, null);
          const short = await client.start(wf, null, { timeout: '300ms' });
          const e = await client.waitFor(short.id, { timeout: '10s' });
          expect(e.status).toBe('failed');
          expect(e.error?.message).toMatch(/passed its timeout/);
          const l = await client.get(long.id);
          expect(l.status).toBe('waiting');
          expect(l.deadlineAt!.getTime() - l.createdAt.getTime()).toBeGreaterThan(3_500_000);
          await client.cancel(long.id);
        });
      });

      it('fails at once, without running its code, a workflow that waited in the queue past its deadline', async () => {
        let ran = 0;
        const wf = defineWorkflow('timeout-queued', { queue: 'timeout3' }, async () => ++ran);
        const { id } = await client.start(wf, null, { timeout: '50ms' });
        await sleep(150);
        await withWorker({ workflows: [wf] }, async () => {
          const e = await client.waitFor(id, { timeout: '10s' });
          expect(e.status).toBe('failed');
          expect(e.error?.code).toBe('E_TIMEOUT');
        });
        expect(ran).toBe(0);
      });
    });

    describe('handles', () => {
      it('startActivity and startChild return at once; result() suspends, and asked twice gives the same', async () => {
        let started = 0;
        const slow = defineJob('handle-activity', { queue: 'handles' }, async (n: number) => {
          started++;
          await sleep(150);
          return n * 10;
        });
        const child = defineWorkflow('handle-child', { queue: 'handles' }, async (ctx, n: number) =>
          ctx.step('c', () => n + 1),
        );
        const wf = defineWorkflow('handles', { queue: 'handles' }, async (ctx) => {
          const a = await ctx.startActivity(slow, 4);
          const c = await ctx.startChild(child, 1);
          const meanwhile = await ctx.step('meanwhile', () => 'did other work');
          const [r1, r2, cr] = [await a.result(), await a.result(), await c.result()];
          return { meanwhile, r1, r2, cr, ids: [a.id, c.id] };
        });
        await withWorker({ workflows: [wf, child], jobs: [slow] }, async () => {
          const { id } = await client.start(wf, null);
          const out = (await client.result(id, { timeout: '15s' })) as Record<string, unknown>;
          expect(out).toEqual({
            meanwhile: 'did other work',
            r1: 40,
            r2: 40,
            cr: 2,
            ids: [`${id}:0`, `${id}:1`],
          });
          expect(started).toBe(1);
          const h = (await client.describe(id)).history;
          expect(h.map((x) => [x.kind, x.status])).toEqual([
            ['activity', 'completed'],
            ['child', 'completed'],
            ['step', 'completed'],
          ]);
          expect(h[0].output).toMatchObject({ result: 40 });
        });
      });

      it('a handle never awaited does not hold the workflow back; the activity still runs and records its result', async () => {
        const later = defineJob('unawaited-activity', { queue: 'handles2' }, async () => {
          await sleep(300);
          return 'ran anyway';
        });
        const wf = defineWorkflow('unawaited', { queue: 'handles2' }, async (ctx) => {
          const h = await ctx.startActivity(later, null);
          return h.id;
        });
        await withWorker({ workflows: [wf], jobs: [later] }, async () => {
          const { id } = await client.start(wf, null);
          const activityId = (await client.result(id, { timeout: '10s' })) as string;
          expect((await client.get(id)).status).toBe('completed');
          expect(await client.result(activityId, { timeout: '10s' })).toBe('ran anyway');
        });
      });
    });

    describe('races', () => {
      it('Promise.race over two steps decides on replay as it did, whatever order the code asks them in', async () => {
        const replays: string[] = [];
        const wf = defineWorkflow('racing-steps', { queue: 'races' }, async (ctx) => {
          const winner = await Promise.race([
            ctx.step('slow', async () => (await sleep(200), 'slow')),
            ctx.step('fast', async () => (await sleep(10), 'fast')),
          ]);
          replays.push(winner);
          // Which step comes next depends on the winner: a replay that decided otherwise would
          // meet a history it does not match (E_NONDETERMINISM).
          await ctx.step(`after-${winner}`, () => winner);
          await ctx.sleep(100);
          return ctx.step('end', () => winner);
        });
        await withWorker({ workflows: [wf] }, async () => {
          const { id } = await client.start(wf, null);
          expect(await client.result(id, { timeout: '10s' })).toBe('fast');
          // The sleep made the body run again from history; both runs saw the same winner.
          expect(replays).toEqual(['fast', 'fast']);
          const h = (await client.describe(id)).history;
          expect(h.map((x) => x.name)).toEqual(['slow', 'fast', 'after-fast', 'sleep', 'end']);
          expect(h[1].settled).toBeLessThan(h[0].settled!);
        });
      });

      it('Promise.any over activities and a signal against a timer replay alike across an interrupted run', async () => {
        const fails = defineJob('any-fails', { queue: 'races2' }, async () => {
          throw new NonRetryableError('no');
        });
        const succeeds = defineJob(
          'any-succeeds',
          { queue: 'races2' },
          async () => (await sleep(100), 'yes'),
        );
        let bodies = 0;
        let longRuns = 0;
        const wf = defineWorkflow('racing-any', { queue: 'races2' }, async (ctx) => {
          bodies++;
          const any = await Promise.any([ctx.run(fails, null), ctx.run(succeeds, null)]);
          const raced = await Promise.race([
            ctx.waitForSignal('go').then(() => 'signal'),
            ctx.sleep(200).then(() => 'timer'),
          ]);
          await ctx.step(`after-${raced}`, () => raced);
          // A long step: the worker is stopped while it runs, and another replays the workflow.
          await ctx.step('long', async (s) => {
            await new Promise((resolve, reject) => {
              const t = setTimeout(resolve, longRuns++ === 0 ? 60_000 : 10);
              s.signal.addEventListener('abort', () => (clearTimeout(t), reject(s.signal.reason)));
            });
          });
          return { any, raced };
        });
        const first = new Worker(store, { workflows: [wf], jobs: [fails, succeeds], pollInterval: 50 });
        await first.start();
        const { id } = await client.start(wf, null);
        await eventually(
          async () => (await client.describe(id)).history.some((h) => h.name === 'after-timer'),
          10_000,
          'the timer to win',
        );
        // The signal arrives now: a replay that let it race the recorded timer anew would go the other way.
        await client.signal(id, 'go', null);
        await first.stop({ deadline: 0 });
        await withWorker({ workflows: [wf], jobs: [fails, succeeds] }, async () => {
          expect(await client.result(id, { timeout: '15s' })).toEqual({ any: 'yes', raced: 'timer' });
        });
        expect(bodies).toBeGreaterThanOrEqual(2);
      });
    });

    describe('continueAsNew', () => {
      it('starts a fresh run of the same id with an empty history; describe() links the runs; signals carry over', async () => {
        const tick = defineJob('can-tick', { queue: 'can' }, async (n: number) => n * 100);
        const wf = defineWorkflow('counter', { queue: 'can' }, async (ctx, n: number) => {
          const fromActivity = await ctx.run(tick, n);
          if (n < 3) {
            await ctx.step('count', () => n);
            return ctx.continueAsNew(n + 1);
          }
          const sig = await ctx.waitForSignal<string>('last');
          return { n, fromActivity, sig, runNumber: ctx.runNumber };
        });
        await withWorker({ workflows: [wf], jobs: [tick] }, async () => {
          const { id } = await client.start(wf, 1);
          // Sent while run 1 or 2 is going: it waits for the run that asks for it.
          await client.signal(id, 'last', 'kept');
          expect(await client.result(id, { timeout: '15s' })).toEqual({
            n: 3,
            fromActivity: 300,
            sig: 'kept',
            runNumber: 3,
          });
          const d = await client.describe(id);
          expect(d.runNumber).toBe(3);
          expect(d.input).toBe(3);
          expect(d.history.map((h) => h.name)).toEqual(['can-tick', 'last']);
          expect(d.previousRuns.map((r) => [r.run, r.input, r.steps])).toEqual([
            [2, 2, 2],
            [1, 1, 2],
          ]);
          // Each run's activity has an id of its own.
          expect((await client.get(`${id}:0`)).output).toBe(100);
          expect((await client.get(`${id}:r2:0`)).output).toBe(200);
          expect((await client.get(`${id}:r3:0`)).output).toBe(300);
        });
      });

      it('refuses input that is not JSON with E_NOT_JSON, failing the workflow and keeping its history', async () => {
        const wf = defineWorkflow('bad-continue', { queue: 'can2' }, async (ctx) => {
          await ctx.step('before', () => 1);
          return ctx.continueAsNew({ when: new Date() });
        });
        await withWorker({ workflows: [wf] }, async () => {
          const { id } = await client.start(wf, null);
          const e = await client.waitFor(id, { timeout: '10s' });
          expect(e.status).toBe('failed');
          expect(e.error?.code).toBe('E_NOT_JSON');
          expect(e.runNumber).toBe(1);
          expect((await client.describe(id)).history.map((h) => h.name)).toEqual(['before']);
        });
      });
    });

    describe('names written to the history', () => {
      it('fails a workflow whose step, event or signal name PostgreSQL cannot store, naming what is wrong', async () => {
        const child = defineWorkflow('bad-names-child', { queue: 'names' }, async () => 1);
        const wf = defineWorkflow('bad-names', { queue: 'names' }, async (ctx, which: string) => {
          await ctx.step('fine', () => 1);
          if (which === 'step') await ctx.step('a\u0000b', () => 2);
          if (which === 'event') await ctx.setEvent('k\ud800', 1);
          if (which === 'signal') await ctx.waitForSignal('s\u0000', { timeout: '1s' });
          if (which === 'patch') await ctx.patched('p\u0000');
          if (which === 'child') await ctx.startChild(child, null, { id: 'c\u0000' });
          return which;
        });
        const expected: Record<string, RegExp> = {
          step: /a step name in workflow 'bad-names' contains a NUL character/,
          event: /the key of an event in workflow 'bad-names' contains a lone UTF-16 surrogate/,
          signal: /the signal name waited for in workflow 'bad-names' contains a NUL character/,
          patch: /the change id of patched\(\) in workflow 'bad-names' contains a NUL character/,
          child: /the child workflow id contains a NUL character/,
        };
        await withWorker({ workflows: [wf, child] }, async () => {
          for (const [which, message] of Object.entries(expected)) {
            const { id } = await client.start(wf, which);
            const e = await client.waitFor(id, { timeout: '10s' });
            expect(e.status, which).toBe('failed');
            expect(e.error?.code, which).toBe('E_INVALID_OPTION');
            expect(e.error?.message, which).toMatch(message);
            expect((await client.describe(id)).history.map((h) => h.name)).toEqual(['fine']);
          }
        });
      });
    });

    describe('continueAsNew, what a run leaves behind', () => {
      it('writes nothing of a run into the next: a statement of run 1 still on its way lands before the continue', async () => {
        const own = await b.open();
        const ownClient = new Client(own);
        let held = false;
        interceptStatements(own.driver, {
          // Run 1's sleep is recorded late: after the code has already asked to continue as new.
          async hold(statement) {
            if (held || !statement.startsWith('baton_record_histor')) return;
            held = true;
            await sleep(300);
          },
        });
        const wf = defineWorkflow('continue-late-write', { queue: 'can3' }, async (ctx, n: number) => {
          if (n === 1) {
            void ctx.sleep('1h');
            // Long enough for the sleep's write to be on its way (held above), not to land.
            await new Promise((r) => setTimeout(r, 20));
            return ctx.continueAsNew(2);
          }
          // Still running when run 1's held statement goes out.
          return ctx.step('second-run', async () => (await sleep(600), n));
        });
        const w = new Worker(own, { workflows: [wf], pollInterval: 50 });
        await w.start();
        const { id } = await ownClient.start(wf, 1);
        expect(await ownClient.result(id, { timeout: '10s' })).toBe(2);
        expect(held).toBe(true);
        const d = await ownClient.describe(id);
        expect(d.history.map((h) => h.name)).toEqual(['second-run']);
        await w.stop();
        await own.close();
      });

      it('keeps the idempotency keys of the signals a run took, so a resend after the continue stores nothing', async () => {
        const wf = defineWorkflow('continue-keys', { queue: 'can4' }, async (ctx, n: number) => {
          const got = await ctx.waitForSignal<string>('go');
          if (n === 1) return ctx.continueAsNew(2);
          return got;
        });
        await withWorker({ workflows: [wf] }, async () => {
          const { id } = await client.start(wf, 1);
          await client.signal(id, 'go', 'first', { idempotencyKey: 'k-first' });
          await eventually(async () => (await client.get(id)).runNumber === 2, 10_000, 'the second run');
          // The first send's reply was lost, say: resent after the continue, it is not a new signal.
          await client.signal(id, 'go', 'first', { idempotencyKey: 'k-first' });
          await client.signal(id, 'go', 'second', { idempotencyKey: 'k-second' });
          expect(await client.result(id, { timeout: '10s' })).toBe('second');
        });
      });
    });

    describe('retrying a timed-out workflow', () => {
      it('counts its timeout again from the retry', async () => {
        const wf = defineWorkflow('retry-timeout', { queue: 'timeout4', timeout: '300ms' }, async (ctx) =>
          ctx.waitForSignal<string>('go'),
        );
        await withWorker({ workflows: [wf] }, async () => {
          const { id } = await client.start(wf, null);
          expect((await client.waitFor(id, { timeout: '10s' })).error?.code).toBe('E_TIMEOUT');
          await client.retry(id);
          await client.signal(id, 'go', 'in time');
          expect(await client.result(id, { timeout: '10s' })).toBe('in time');
        });
      });
    });

    describe('isReplaying and ctx.log', () => {
      it('says when the code replays, and ctx.log writes each line once', async () => {
        const lines: string[] = [];
        const sink = new Writable({
          write(chunk: Buffer, _enc, done) {
            lines.push(...chunk.toString().trim().split('\n'));
            done();
          },
        });
        const logger = pino({ level: 'info' }, sink);
        const seen: boolean[] = [];
        const wf = defineWorkflow('replay-aware', { queue: 'replaying' }, async (ctx) => {
          seen.push(ctx.isReplaying);
          ctx.log.info({ stage: 'start' }, 'workflow began');
          await ctx.step('one', () => 1);
          await ctx.sleep(100);
          seen.push(ctx.isReplaying);
          ctx.log.info({ stage: 'end' }, 'workflow woke');
          ctx.logger.info('logger logs on every run');
          return 'ok';
        });
        await withWorker({ workflows: [wf], logger }, async () => {
          const { id } = await client.start(wf, null);
          expect(await client.result(id, { timeout: '10s' })).toBe('ok');
        });
        // First run: not replaying; second run (after the sleep): replaying at first, not after the sleep.
        expect(seen).toEqual([false, true, false]);
        const msgs = lines.map((l) => (JSON.parse(l) as { msg: string }).msg);
        expect(msgs.filter((m) => m === 'workflow began')).toHaveLength(1);
        expect(msgs.filter((m) => m === 'workflow woke')).toHaveLength(1);
        expect(msgs.filter((m) => m === 'logger logs on every run')).toHaveLength(1);
      });
    });

    describe('dead letters', () => {
      it('keeps executions that failed for good queryable, and retries them in bulk by name', async () => {
        let healthy = false;
        const flaky = defineJob(
          'dead-letter-job',
          { queue: 'dead', retry: { maxAttempts: 2, baseDelay: 10 } },
          async (n: number) => {
            if (!healthy) throw new Error(`broken ${n}`);
            return n;
          },
        );
        const other = defineJob('dead-other', { queue: 'dead' }, async () => {
          throw new NonRetryableError('never');
        });
        await withWorker({ jobs: [flaky, other] }, async () => {
          const ids = await client.enqueueMany(
            flaky,
            [1, 2, 3].map((n) => ({ input: n })),
          );
          const o = await client.enqueue(other, null);
          for (const { id } of [...ids, o])
            expect((await client.waitFor(id, { timeout: '10s' })).status).toBe('failed');
          const dead = await client.list({ dead: true, name: 'dead-letter-job' });
          expect(dead.map((e) => [e.status, e.attempts, e.error?.message]).sort()).toEqual([
            ['failed', 2, 'broken 1'],
            ['failed', 2, 'broken 2'],
            ['failed', 2, 'broken 3'],
          ]);
          await expect(client.list({ dead: true, status: 'failed' })).rejects.toMatchObject({
            code: 'E_INVALID_OPTION',
          });
          healthy = true;
          expect(await client.retryDead({ name: 'dead-letter-job' })).toBe(3);
          for (const { id } of ids) {
            const e = await client.waitFor(id, { timeout: '10s' });
            expect(e.status).toBe('completed');
            expect(e.errors).toHaveLength(2);
          }
          // The other job's dead letter was not touched.
          expect((await client.get(o.id)).status).toBe('failed');
          expect(await client.retryDead({ name: 'dead-letter-job' })).toBe(0);
        });
      });
    });
  });
}
