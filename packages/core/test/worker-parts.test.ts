// Each part of a Worker on its own (src/worker/): claiming, dispatch, outcome writes, the lease,
// maintenance, schedules, shutdown. Real stores on both backends; a part's neighbours are stubs.
import { describe, it, expect, beforeAll, afterAll, vi } from 'vitest';
import { backends, eventually, quietLogger, sleep } from './backends.js';
import { interceptStatements } from './intercept.js';
import { BatonError, Client, Worker, defineJob, defineSchedule, type Store } from '../src/index.js';
import { claimUnlimited, type ClaimedRow } from '../src/sql/claim.js';
import { registerWorker } from '../src/sql/workers.js';
import { Lifecycle } from '../src/worker/lifecycle.js';
import { Claimer, type ClaimerHost } from '../src/worker/claimer.js';
import { OutcomeWriter } from '../src/worker/outcomes.js';
import { Dispatcher, type DispatchHost } from '../src/worker/dispatcher.js';
import { Heartbeat } from '../src/worker/heartbeat.js';
import { Maintenance } from '../src/worker/maintenance.js';
import { ScheduleFirer } from '../src/worker/schedules.js';
import { listenReachesUs } from '../src/worker/listen-check.js';
import { shutDown, type StoppingWorker } from '../src/worker/shutdown.js';
import { HistoryWriter } from '../src/workflow/history-writer.js';
import type { Driver } from '../src/driver/types.js';

const log = quietLogger();

function running(): Lifecycle {
  const life = new Lifecycle(log);
  life.phase = 'running';
  return life;
}

async function registered(store: Store, id: string, queues: string[], names: string[]): Promise<void> {
  await registerWorker(store.driver, {
    id,
    hostname: 'test',
    pid: process.pid,
    queues,
    names,
    leaseMs: 30_000,
  });
}

const job = (name: string, queue = name) => defineJob(name, { queue }, async () => null);

describe('Claimer due-time wake-ups (fake clock)', () => {
  it('claims only once the clock is past the due millisecond, not when the timer first fires', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] });
    try {
      // A driver that answers every statement with no rows and notes when claims came.
      const claimsAt: number[] = [];
      const db = {
        query: async (sql: string) => {
          if (sql.includes('UPDATE baton.executions')) claimsAt.push(Date.now());
          return [];
        },
      } as unknown as Driver;
      const host = { running: () => 0, isRunning: () => false, heldIds: () => [], dispatch: () => 0 };
      const claimer = new Claimer(
        db,
        'w-fake',
        { queues: ['q'], names: ['n'] },
        4,
        4,
        0,
        running(),
        log,
        host,
      );
      await claimer.refreshQueueLimits();
      const start = Date.now();
      claimer.wakeIn(100);
      // The fake timer fires when the clock reads exactly the due millisecond: too early by up to 1 ms.
      await vi.advanceTimersByTimeAsync(100);
      expect(claimsAt).toEqual([]);
      await vi.advanceTimersByTimeAsync(1);
      expect(claimsAt).toEqual([start + 101]);
      await claimer.stop();
    } finally {
      vi.useRealTimers();
    }
  });
});

for (const b of backends()) {
  describe(`worker parts (${b.name})`, () => {
    let store: Store;
    let client: Client;
    beforeAll(async () => {
      store = await b.open();
      client = new Client(store);
    });
    afterAll(async () => {
      await store.close();
    });

    describe('Lifecycle.persist', () => {
      it('retries a write through connection errors, gives up on any other error, and stops retrying once stopped', async () => {
        const life = running();
        let calls = 0;
        const result = await life.persist('flaky write', async () => {
          if (++calls < 3)
            throw Object.assign(new Error('Connection terminated unexpectedly'), { code: 'ECONNRESET' });
          return 'written';
        });
        expect({ result, calls }).toEqual({ result: 'written', calls: 3 });
        expect(
          await life.persist('bad write', async () => Promise.reject(new Error('syntax error'))),
        ).toBeUndefined();
        life.phase = 'stopped';
        let tries = 0;
        const gaveUp = await life.persist('after stop', async () => {
          tries++;
          throw Object.assign(new Error('connection refused'), { code: 'ECONNREFUSED' });
        });
        expect({ gaveUp, tries }).toEqual({ gaveUp: undefined, tries: 1 });
      });
    });

    describe('Claimer', () => {
      function claimerFor(
        workerId: string,
        queue: string,
        names: string[],
        host: Partial<ClaimerHost> = {},
        claimDelayMs = 0,
      ) {
        const dispatched: number[] = [];
        const life = running();
        const claimer: Claimer = new Claimer(
          store.driver,
          workerId,
          { queues: [queue], names },
          4,
          4,
          claimDelayMs,
          life,
          log,
          {
            running: () => 0,
            isRunning: () => false,
            heldIds: () => [],
            dispatch: () => dispatched.push(claimer.buffered),
            ...host,
          },
        );
        return { claimer, dispatched, life };
      }

      it('fills its buffer up to concurrency + prefetch in whole batches, then stops at an empty queue', async () => {
        const j = job('claimer-fill');
        await registered(store, 'w-fill', ['claimer-fill'], ['claimer-fill']);
        await client.enqueueMany(
          j,
          Array.from({ length: 11 }, () => ({ input: null })),
        );
        const claims: string[] = [];
        interceptStatements(store.driver, { before: (s) => s.startsWith('baton_claim') && claims.push(s) });
        const { claimer } = claimerFor('w-fill', 'claimer-fill', ['claimer-fill']);
        await claimer.refreshQueueLimits();
        claimer.wake();
        await eventually(() => claimer.buffered === 8, 5000, 'the buffer to fill');
        await sleep(100);
        // 4 + 4 of room, batches of 4: two claims, and no third while the buffer is full.
        expect(claimer.buffered).toBe(8);
        expect(claims).toHaveLength(2);
        const taken = [claimer.take()!, claimer.take()!, claimer.take()!, claimer.take()!];
        expect(new Set(taken.map((r) => r.id)).size).toBe(4);
        claimer.refill();
        await eventually(() => claimer.buffered === 7, 5000, 'the last three jobs');
        await sleep(100);
        // A short claim says the queue is dry: no more claims until a wake-up.
        const settled = claims.length;
        claimer.refill();
        await sleep(50);
        expect(claims.length).toBe(settled);
        await claimer.stop();
        expect(claimer.takeAll()).toHaveLength(7);
      });

      it('claims the due rows of every priority, highest first, past not-yet-due rows of higher priorities and other queues', async () => {
        const a = job('claim-levels-a');
        const b = job('claim-levels-b');
        await registered(store, 'w-levels', ['claim-levels-a', 'claim-levels-b'], [a.name, b.name]);
        const later = { delay: '1h' };
        // Sleepers at the highest priorities, where a claim reading in index order meets them first.
        await client.enqueueMany(
          a,
          [9, 9, 7, 7, 7].map((priority) => ({
            input: { priority, due: false },
            options: { ...later, priority },
          })),
        );
        const due = await client.enqueueMany(
          a,
          [5, 1, 5, -2, 1, 9].map((priority) => ({ input: { priority, due: true }, options: { priority } })),
        );
        const other = await client.enqueueMany(b, [{ input: { due: true }, options: { priority: 100 } }]);

        const first = await claimUnlimited(store.driver, 'w-levels', ['claim-levels-a'], [a.name], 4);
        expect(first.map((r) => r.priority).sort((x, y) => y - x)).toEqual([9, 5, 5, 1]);
        expect(first.every((r) => (r.input as { due: boolean }).due)).toBe(true);
        const rest = await claimUnlimited(store.driver, 'w-levels', ['claim-levels-a'], [a.name], 10);
        expect(rest.map((r) => r.priority).sort((x, y) => y - x)).toEqual([1, -2]);
        expect([...first, ...rest].map((r) => r.id).sort()).toEqual(due.map((d) => d.id).sort());
        // both queues in one claim; the sleepers stay queued
        const both = await claimUnlimited(
          store.driver,
          'w-levels',
          ['claim-levels-a', 'claim-levels-b'],
          [a.name, b.name],
          10,
        );
        expect(both.map((r) => r.id)).toEqual([other[0]!.id]);
        const [left] = await store.driver.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM baton.executions WHERE name = $1 AND status = 'queued' AND claimable`,
          [a.name],
        );
        expect(left!.n).toBe(5);
      });

      it('ignores wake-ups for queues it does not serve, and waits for a due time a wake-up names', async () => {
        await registered(store, 'w-wake', ['claimer-wake'], ['claimer-wake']);
        const { claimer } = claimerFor('w-wake', 'claimer-wake', ['claimer-wake']);
        await claimer.refreshQueueLimits();
        const claims: string[] = [];
        interceptStatements(store.driver, {
          before: (s) => s.startsWith('baton_claim') && claims.push(s),
        });
        claimer.onWakeup(JSON.stringify({ q: 'some-other-queue' }));
        claimer.onWakeup('not json');
        await sleep(50);
        expect(claims).toHaveLength(0);
        claimer.onWakeup(JSON.stringify({ q: 'claimer-wake', at: Date.now() + 300 }));
        await sleep(100);
        expect(claims).toHaveLength(0);
        await eventually(() => claims.length === 1, 5000, 'the claim at the due time');
        await claimer.stop();
      });

      it('with a claim batch delay, the wake-ups within it start one claim, at its end', async () => {
        const j = job('claimer-delay');
        await registered(store, 'w-delay', ['claimer-delay'], ['claimer-delay']);
        const { claimer } = claimerFor('w-delay', 'claimer-delay', ['claimer-delay'], {}, 300);
        await claimer.refreshQueueLimits();
        const claims: number[] = [];
        interceptStatements(store.driver, {
          before: (s) => s.startsWith('baton_claim') && claims.push(Date.now()),
        });
        await client.enqueueMany(j, [{ input: 0 }, { input: 1 }, { input: 2 }]);
        const woken = Date.now();
        for (let i = 0; i < 3; i++) {
          claimer.onWakeup(JSON.stringify({ q: 'claimer-delay' }));
          await sleep(20);
        }
        await sleep(100);
        expect(claims).toHaveLength(0);
        await eventually(() => claimer.buffered === 3, 5000, 'the three jobs, claimed together');
        expect(claims).toHaveLength(1);
        expect(claims[0]! - woken).toBeGreaterThanOrEqual(290);
        await claimer.stop();
      });

      it('a claim batch delay leaves the wake-up set for a due time in place', async () => {
        const j = job('claimer-delay-due');
        await registered(store, 'w-delay-due', ['claimer-delay-due'], ['claimer-delay-due']);
        const { claimer } = claimerFor('w-delay-due', 'claimer-delay-due', ['claimer-delay-due'], {}, 20);
        await claimer.refreshQueueLimits();
        const due = Date.now() + 400;
        await client.enqueue(j, 'later', { runAt: new Date(due) });
        claimer.onWakeup(JSON.stringify({ q: 'claimer-delay-due', at: due }));
        // another wake-up, with nothing due yet: its delayed claim finds nothing
        claimer.onWakeup(JSON.stringify({ q: 'claimer-delay-due' }));
        await sleep(150);
        expect(claimer.buffered).toBe(0);
        // the claimer has no poll: only the due time's wake-up can claim the job
        await eventually(() => claimer.buffered === 1, 5000, 'the job at its due time');
        await claimer.stop();
      });

      it('a worker drains a deep queue enqueued before it started without waiting for its poll', async () => {
        const j = job('claim-drain');
        await client.enqueueMany(
          j,
          Array.from({ length: 3000 }, (_, i) => ({ input: i })),
        );
        // No NOTIFY comes after the start, and the poll is far beyond the test's timeout: only
        // claims that come back full, one after another, can finish the queue.
        const w = new Worker(store, { jobs: [j], concurrency: 10, prefetch: 500, pollInterval: '10m' });
        await w.start();
        try {
          await eventually(
            async () =>
              (
                await store.driver.query<{ n: number }>(
                  `SELECT count(*)::int AS n FROM baton.executions WHERE name = $1 AND status = 'completed'`,
                  [j.name],
                )
              )[0]!.n === 3000,
            30_000,
            'all 3000 jobs completed',
          );
        } finally {
          await w.stop({ deadline: 2000 });
        }
      });

      it('after a lost reply, adopts the executions leased to it that nobody here holds', async () => {
        const j = job('claimer-adopt');
        await registered(store, 'w-adopt', ['claimer-adopt'], ['claimer-adopt']);
        await client.enqueueMany(
          j,
          Array.from({ length: 3 }, () => ({ input: null })),
        );
        // A claim that committed and whose rows this claimer never saw; one of them is held elsewhere.
        const leased = await claimUnlimited(store.driver, 'w-adopt', ['claimer-adopt'], ['claimer-adopt'], 3);
        expect(leased).toHaveLength(3);
        const held = leased[0].id;
        const { claimer } = claimerFor('w-adopt', 'claimer-adopt', ['claimer-adopt'], {
          heldIds: () => [held],
          isRunning: (id) => id === held,
        });
        await claimer.refreshQueueLimits();
        claimer.lostReply();
        await eventually(() => claimer.buffered === 2, 5000, 'the adopted rows');
        expect(
          claimer
            .takeAll()
            .map((r) => r.id)
            .sort(),
        ).toEqual([leased[1].id, leased[2].id].sort());
        await claimer.stop();
      });
      it('looks again when a lost reply is reported while a look is on its way', async () => {
        const own = await b.open();
        try {
          const j = job('claimer-again');
          await registered(own, 'w-again', ['claimer-again'], ['claimer-again']);
          await new Client(own).enqueueMany(j, [{ input: 1 }, { input: 2 }]);
          const first = await claimUnlimited(own.driver, 'w-again', ['claimer-again'], ['claimer-again'], 1);
          let looks = 0;
          interceptStatements(own.driver, {
            async after(statement) {
              if (!statement.startsWith('SELECT e.id, e.name') || ++looks !== 1) return;
              // Right after the first look read the table: another write leases a row to this
              // worker, and its lost reply is reported.
              await claimUnlimited(own.driver, 'w-again', ['claimer-again'], ['claimer-again'], 1);
              claimer.suspectLostClaims();
            },
          });
          const claimer: Claimer = new Claimer(
            own.driver,
            'w-again',
            { queues: ['claimer-again'], names: ['claimer-again'] },
            4,
            4,
            0,
            running(),
            log,
            {
              running: () => 0,
              isRunning: () => false,
              heldIds: () => [],
              dispatch: () => undefined,
            },
          );
          await claimer.refreshQueueLimits();
          claimer.suspectLostClaims();
          await eventually(() => claimer.buffered === 2, 5000, 'both rows adopted');
          expect(looks).toBeGreaterThanOrEqual(2);
          expect(claimer.takeAll().map((r) => r.id)).toContain(first[0].id);
          await claimer.stop();
        } finally {
          await own.close();
        }
      });
    });

    describe('OutcomeWriter', () => {
      it('writes the completions that are ready together in one statement, and reports those whose lease is gone', async () => {
        const j = job('outcomes-batch');
        await registered(store, 'w-out', ['outcomes-batch'], ['outcomes-batch']);
        await client.enqueueMany(
          j,
          Array.from({ length: 5 }, () => ({ input: null })),
        );
        const rows = await claimUnlimited(store.driver, 'w-out', ['outcomes-batch'], ['outcomes-batch'], 5);
        const statements: string[] = [];
        interceptStatements(store.driver, {
          before: (s) => s.startsWith('baton_complete') && statements.push(s),
        });
        const outcomes = new OutcomeWriter(store, 'w-out', running(), log, 0);
        for (const r of rows) {
          // The last one is completed with an attempt number the row does not have: its lease is not this one.
          const attempt = r === rows[4] ? r.attempts + 1 : r.attempts;
          outcomes.complete({
            id: r.id,
            attempt,
            output: JSON.stringify(r.id),
            hasParent: false,
            freesSlotOf: null,
          });
        }
        expect(outcomes.busy).toBe(true);
        expect(outcomes.ids().sort()).toEqual(rows.map((r) => r.id).sort());
        await outcomes.drain();
        expect(outcomes.busy).toBe(false);
        expect(statements).toEqual(['baton_complete']);
        const after = await Promise.all(rows.map((r) => client.get(r.id)));
        expect(after.map((e) => e.status)).toEqual([
          'completed',
          'completed',
          'completed',
          'completed',
          'running',
        ]);
        expect(after[0].output).toBe(rows[0].id);
      });

      it('records a failure fenced on the lease: false once another attempt owns the execution', async () => {
        const j = job('outcomes-fail');
        await registered(store, 'w-fail', ['outcomes-fail'], ['outcomes-fail']);
        await client.enqueue(j, null);
        const [row] = await claimUnlimited(store.driver, 'w-fail', ['outcomes-fail'], ['outcomes-fail'], 1);
        const outcomes = new OutcomeWriter(store, 'w-fail', running(), log, 0);
        const error = JSON.stringify({ message: 'boom' });
        expect(await outcomes.finish({ ...row, attempts: row.attempts + 1 }, { kind: 'failed' }, error)).toBe(
          false,
        );
        expect(await outcomes.finish(row, { kind: 'failed' }, error)).toBe(true);
        const e = await client.get(row.id);
        expect(e.status).toBe('failed');
        expect(e.error?.message).toBe('boom');
      });
    });

    describe('Dispatcher', () => {
      it('runs at most its concurrency at once, and a cancellation aborts the running attempt', async () => {
        let live = 0;
        let peak = 0;
        const slow = defineJob('dispatch-slow', { queue: 'dispatch' }, async (_: null, ctx) => {
          live++;
          peak = Math.max(peak, live);
          try {
            await new Promise((resolve, reject) => {
              const t = setTimeout(resolve, 80);
              ctx.signal.addEventListener('abort', () => (clearTimeout(t), reject(ctx.signal.reason)));
            });
          } finally {
            live--;
          }
          return 'done';
        });
        await registered(store, 'w-dispatch', ['dispatch'], ['dispatch-slow']);
        await client.enqueueMany(
          slow,
          Array.from({ length: 6 }, () => ({ input: null })),
        );
        const rows = await claimUnlimited(store.driver, 'w-dispatch', ['dispatch'], ['dispatch-slow'], 6);
        const buffer: ClaimedRow[] = [...rows];
        const claimer = { buffered: 0, take: () => buffer.shift(), refill: () => undefined };
        Object.defineProperty(claimer, 'buffered', { get: () => buffer.length });
        const life = running();
        const outcomes = new OutcomeWriter(store, 'w-dispatch', life, log, 0);
        const ended: string[] = [];
        const host: DispatchHost = {
          workerId: 'w-dispatch',
          store,
          life,
          log,
          outcomes,
          artifacts: store.artifacts,
          history: new HistoryWriter(store.driver, 'w-dispatch'),
          saveProgress: () => undefined,
          wakeIn: () => undefined,
          removeOnComplete: false,
          ended: (row) => ended.push(row.id),
        };
        const d = new Dispatcher(
          { jobs: new Map([[slow.name, slow]]), workflows: new Map(), concurrency: 2 },
          claimer as unknown as Claimer,
          life,
          host,
        );
        d.dispatch();
        expect(d.size).toBe(2);
        expect(d.hasRoom).toBe(false);
        const cancelled = rows[0].id;
        d.cancel(cancelled);
        await eventually(() => ended.length === 6, 10_000, 'every attempt to end');
        await outcomes.drain();
        expect(peak).toBe(2);
        const statuses = await Promise.all(rows.map(async (r) => (await client.get(r.id)).status));
        expect(statuses).toEqual([
          'cancelled',
          'completed',
          'completed',
          'completed',
          'completed',
          'completed',
        ]);
      });
    });

    describe('Heartbeat', () => {
      it('renews the lease, writes progress, picks up cancellations, and registers again after being declared dead', async () => {
        const j = job('heartbeat-job');
        await client.enqueue(j, null);
        const hb: { dead: number; cancelled: string[] } = { dead: 0, cancelled: [] };
        const running_: string[] = [];
        const heartbeat = new Heartbeat(
          store.driver,
          { id: 'w-beat', served: { queues: ['heartbeat-job'], names: ['heartbeat-job'] }, leaseMs: 30_000 },
          running(),
          log,
          {
            runningIds: () => running_,
            declaredDead: () => hb.dead++,
            cancelRequested: (id) => hb.cancelled.push(id),
          },
        );
        await heartbeat.register();
        const [row] = await claimUnlimited(store.driver, 'w-beat', ['heartbeat-job'], ['heartbeat-job'], 1);
        running_.push(row.id);
        heartbeat.saveProgressLater(row.id, JSON.stringify({ pct: 40 }));
        await store.driver.query('UPDATE baton.executions SET cancel_requested = true WHERE id = $1', [
          row.id,
        ]);
        await heartbeat.beat();
        expect((await client.get(row.id)).progress).toEqual({ pct: 40 });
        expect(hb).toEqual({ dead: 0, cancelled: [row.id] });
        // Another worker's recovery removed the registration.
        await store.driver.query('DELETE FROM baton.workers WHERE id = $1', ['w-beat']);
        await heartbeat.beat();
        expect(hb.dead).toBe(1);
        const back = await store.driver.query('SELECT 1 FROM baton.workers WHERE id = $1', ['w-beat']);
        expect(back).toHaveLength(1);
        await heartbeat.unregister();
        expect(
          await store.driver.query('SELECT 1 FROM baton.workers WHERE id = $1', ['w-beat']),
        ).toHaveLength(0);
      });
    });

    describe('Maintenance and ScheduleFirer', () => {
      it('requeues what a worker whose lease expired held, fires due schedules, and wakes the claimer', async () => {
        const j = job('maintained');
        await client.enqueue(j, null);
        await registered(store, 'w-gone', ['maintained'], ['maintained']);
        const [row] = await claimUnlimited(store.driver, 'w-gone', ['maintained'], ['maintained'], 1);
        await store.driver.query(
          `UPDATE baton.workers SET heartbeat_at = now() - interval '1 hour' WHERE id = 'w-gone'`,
        );
        // Yearly, made due by hand below: its next fire is months away, so the second run must find
        // nothing due (an every-second cron fired again whenever the runs straddled a second).
        const tick = defineSchedule('maintained-tick', { cron: '0 0 0 1 1 *', job: j });
        const schedules = new ScheduleFirer(store.driver, { schedules: [tick] });
        await schedules.register();
        await store.driver.query(
          `UPDATE baton.schedules SET next_fire_at = date_trunc('second', now()) WHERE name = 'maintained-tick'`,
        );
        let wakes = 0;
        let refreshes = 0;
        const m = new Maintenance(
          store,
          30_000,
          { completedMs: 7 * 86_400_000, failedMs: 30 * 86_400_000 },
          schedules,
          running(),
          log,
          {
            wake: () => wakes++,
            suspectLostClaims: () => undefined,
            refreshQueueLimits: async () => void refreshes++,
            recovered: () => undefined,
          },
        );
        await m.run();
        const e = await client.get(row.id);
        expect(e.status).toBe('queued');
        expect(e.error?.code).toBe('E_LEASE_EXPIRED');
        const fired = await client.list({ name: 'maintained', limit: 10 });
        expect(fired.filter((x) => x.id !== row.id)).toHaveLength(1);
        expect(wakes).toBe(2);
        expect(refreshes).toBe(1);
        // Fired once: a second run finds nothing due.
        await m.run();
        expect(await client.list({ name: 'maintained', limit: 10 })).toHaveLength(2);
      });
    });

    describe('listenReachesUs', () => {
      it('hears its own NOTIFY on a real connection, and says so when notifications are dropped', async () => {
        expect(await listenReachesUs(store.driver)).toBe(true);
        const deaf = Object.create(store.driver) as Driver;
        deaf.notify = async () => undefined;
        expect(await listenReachesUs(deaf, 100)).toBe(false);
      });
    });
  });
}

describe('shutDown', () => {
  it('stops claiming, gives back the buffer, waits for running work until the deadline, aborts the rest, then writes and unregisters', async () => {
    const steps: string[] = [];
    const life = new Lifecycle(log);
    life.phase = 'running';
    let runningCount = 2;
    const w = {
      id: 'w-stop',
      life,
      detach: async () => void steps.push(`detach (${life.phase})`),
      claimer: {
        stop: async () => void steps.push('claims settled'),
        takeAll: () => [{ id: 'a' }, { id: 'b' }],
      },
      outcomes: {
        release: async (ids: string[]) => void steps.push(`release ${ids.join(',')}`),
        drain: async () => void steps.push('drain'),
      },
      dispatcher: {
        get size() {
          return runningCount;
        },
        abortAll: (kind: string, errorFor: () => BatonError) => {
          steps.push(`abort ${runningCount} (${kind}, ${errorFor().code})`);
          runningCount = 0;
        },
      },
      heartbeat: {
        beat: async () => void steps.push('beat'),
        unregister: async () => void steps.push('unregister'),
      },
    } as unknown as StoppingWorker;
    // One handler finishes within the deadline, the other does not.
    setTimeout(() => (runningCount = 1), 20);
    await shutDown(w, 150);
    expect(steps).toEqual([
      'detach (stopping)',
      'claims settled',
      'release a,b',
      'abort 1 (shutdown, E_WORKER_STOPPED)',
      'drain',
      'beat',
      'unregister',
    ]);
    expect(life.phase).toBe('stopped');
  });
});
