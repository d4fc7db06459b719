// A statement that commits on the server but whose reply never reaches the worker (the connection
// drops between COMMIT and the answer): the worker must neither strand nor repeat what it did.
import { describe, it, expect } from 'vitest';
import { backends, eventually } from './backends.js';
import { interceptStatements, lostReply } from './intercept.js';
import { Client, Worker, defineJob, defineWorkflow, type Store } from '../src/index.js';
import { recoverExpired } from '../src/sql/workers.js';

/** Loses the reply of the first statement whose name (or SQL) starts with `prefix`; resolves when it did. */
function loseFirstReply(store: Store, prefix: string): Promise<string> {
  let fired = false;
  return new Promise((resolve) =>
    interceptStatements(store.driver, {
      after(name) {
        if (fired || !name.startsWith(prefix)) return;
        fired = true;
        resolve(name);
        throw lostReply(name);
      },
    }),
  );
}

for (const b of backends()) {
  describe(`lost replies (${b.name})`, () => {
    it('runs what a claim with a lost reply took, at once and once, without waiting for a lease to expire', async () => {
      const store = await b.open();
      const lost = loseFirstReply(store, 'baton_claim');
      const runs = new Map<number, number>();
      const job = defineJob('adopted', { queue: 'adopted' }, async (input: { n: number }) => {
        runs.set(input.n, (runs.get(input.n) ?? 0) + 1);
      });
      const client = new Client(store);
      const ids = await client.enqueueMany(
        job,
        Array.from({ length: 20 }, (_, n) => ({ input: { n } })),
      );
      // A long lease and no polling: lease recovery cannot be what saves these jobs.
      const w = new Worker(store, { jobs: [job], lease: '10m', pollInterval: 600_000 });
      await w.start();
      await lost;
      for (const { id } of ids) {
        const e = await client.waitFor(id, { timeout: '15s' });
        expect(e.status).toBe('completed');
        expect(e.attempts).toBe(1);
      }
      expect([...runs.values()]).toEqual(Array(20).fill(1));
      await w.stop();
      await store.close();
    });

    it('runs a workflow whose start beside its worker lost its reply, without waiting for a lease to expire', async () => {
      // The insert commits the run already claimed by the worker, but the caller sees a connection
      // error: the worker holds a run it was never handed, and nothing else would ever take it.
      const store = await b.open();
      const lost = loseFirstReply(store, 'baton_start_here');
      const wf = defineWorkflow('started-lost', { queue: 'started-lost' }, async (ctx, n: number) =>
        ctx.step('double', () => n * 2),
      );
      const client = new Client(store);
      const w = new Worker(store, { workflows: [wf], lease: '10m', pollInterval: 600_000 });
      await w.start();
      await expect(client.start(wf, 21, { id: 'started-lost-1' })).rejects.toMatchObject({
        code: 'ECONNRESET',
      });
      await lost;
      expect(await client.result('started-lost-1', { timeout: '15s' })).toBe(42);
      // Starting again (the caller's retry) finds the same run.
      expect(await client.start(wf, 21, { id: 'started-lost-1' })).toEqual({
        id: 'started-lost-1',
        created: false,
      });
      expect((await client.get('started-lost-1')).attempts).toBe(1);
      await w.stop();
      await store.close();
    });

    it('records a completion whose reply was lost exactly once', async () => {
      const store = await b.open();
      const lost = loseFirstReply(store, 'baton_complete');
      let runs = 0;
      const job = defineJob('completed-once', { queue: 'completed-once' }, async () => ++runs);
      const client = new Client(store);
      const w = new Worker(store, { jobs: [job], pollInterval: 50 });
      await w.start();
      const { id } = await client.enqueue(job, null);
      await lost;
      const e = await client.waitFor(id, { timeout: '15s' });
      expect(e.status).toBe('completed');
      expect(e.output).toBe(1);
      expect(runs).toBe(1);
      await w.stop();
      await store.close();
    });

    it('removes a job whose removing completion lost its reply, having run it once', async () => {
      const store = await b.open();
      const lost = loseFirstReply(store, 'baton_complete');
      const runs = new Map<number, number>();
      const job = defineJob('removed-once', { queue: 'removed-once' }, async (n: number) => {
        runs.set(n, (runs.get(n) ?? 0) + 1);
      });
      const client = new Client(store);
      const w = new Worker(store, { jobs: [job], pollInterval: 50, removeOnComplete: true });
      await w.start();
      await client.enqueue(job, 1);
      await lost;
      // The worker goes on: a later job is run and removed too.
      await client.enqueue(job, 2);
      await eventually(
        async () => runs.has(2) && (await client.list({ name: 'removed-once' })).length === 0,
        15_000,
        'both jobs run and removed',
      );
      await new Promise((r) => setTimeout(r, 300));
      expect([...runs.entries()].sort()).toEqual([
        [1, 1],
        [2, 1],
      ]);
      await w.stop();
      await store.close();
    });

    it('replays a workflow whose step checkpoint reply was lost without running the step again', async () => {
      const store = await b.open();
      const lost = loseFirstReply(store, 'baton_record_history');
      let charges = 0;
      const wf = defineWorkflow('checkpointed', { queue: 'checkpointed' }, async (ctx) => {
        const a = await ctx.step('charge', () => ++charges);
        const r = await ctx.step('receipt', () => `receipt for charge ${a}`);
        return r;
      });
      const client = new Client(store);
      const w = new Worker(store, { workflows: [wf], pollInterval: 50 });
      await w.start();
      const { id } = await client.start(wf, null);
      expect(await lost).toBe('baton_record_history');
      expect(await client.result(id, { timeout: '15s' })).toBe('receipt for charge 1');
      expect(charges).toBe(1);
      const d = await client.describe(id);
      expect(d.history.map((h) => [h.name, h.status, h.output])).toEqual([
        ['charge', 'completed', 1],
        ['receipt', 'completed', 'receipt for charge 1'],
      ]);
      await w.stop();
      await store.close();
    });

    it('resumes a workflow from its history when the claim that read it lost its reply', async () => {
      // The claim brings a workflow's history with it. When its reply is lost, the worker adopts
      // what the claim took (ownedButUnknown) and must replay from the history, not run anew.
      const store = await b.open();
      let charges = 0;
      const wf = defineWorkflow('resumed-lost', { queue: 'resumed-lost' }, async (ctx) => {
        const charge = await ctx.step('charge', () => ++charges);
        const go = await ctx.waitForSignal<string>('go');
        return `${go} after charge ${charge}`;
      });
      const client = new Client(store);
      const w = new Worker(store, { workflows: [wf], lease: '10m', pollInterval: 600_000 });
      await w.start();
      const { id } = await client.start(wf, null);
      await eventually(
        async () => (await client.get(id)).status === 'waiting',
        10_000,
        'the first run to suspend',
      );
      const lost = loseFirstReply(store, 'baton_claim');
      await client.signal(id, 'go', 'shipped');
      expect(await lost).toBe('baton_claim');
      expect(await client.result(id, { timeout: '15s' })).toBe('shipped after charge 1');
      expect(charges).toBe(1);
      await w.stop();
      await store.close();
    });

    it('a worker declared dead stops what it runs and records nothing for it', async () => {
      const store = await b.open();
      const seen: { attempt: number; reason?: string }[] = [];
      const job = defineJob('zombie', { queue: 'zombie' }, async (_: null, ctx) => {
        const entry: { attempt: number; reason?: string } = { attempt: ctx.attempt };
        seen.push(entry);
        if (ctx.attempt > 1) return 'second';
        await new Promise<void>((resolve) =>
          ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
        );
        entry.reason = (ctx.signal.reason as { code?: string }).code;
        return 'first';
      });
      const client = new Client(store);
      const a = new Worker(store, { jobs: [job], lease: '3s', pollInterval: 50 });
      await a.start();
      const { id } = await client.enqueue(job, null);
      await eventually(() => seen.length === 1, 10_000, 'attempt 1 on worker A');
      // Another worker finds A's lease expired (as after a long pause) and requeues its job.
      await eventually(
        async () => {
          await store.driver.query(
            `UPDATE baton.workers SET heartbeat_at = now() - interval '1 hour' WHERE id = $1`,
            [a.id],
          );
          return (await recoverExpired(store.driver)).some((r) => r.id === id);
        },
        10_000,
        'recovery of A',
      );
      const other = new Worker(store, { jobs: [job], pollInterval: 50 });
      await other.start();
      const e = await client.waitFor(id, { timeout: '15s' });
      expect(e.output).toBe('second');
      // A's next heartbeat tells it that it was declared dead: it aborts the stale attempt.
      await eventually(() => seen[0].reason !== undefined, 10_000, 'the stale attempt to be aborted');
      expect(seen[0].reason).toBe('E_LEASE_EXPIRED');
      const after = await client.get(id);
      expect(after.status).toBe('completed');
      expect(after.attempts).toBe(2);
      expect(after.errors.map((x) => x.code)).toEqual(['E_LEASE_EXPIRED']);
      await Promise.all([a.stop(), other.stop()]);
      await store.close();
    });
  });
}
