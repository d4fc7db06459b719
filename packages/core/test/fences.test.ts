// Races around a lost lease, pinned down statement by statement on a real database: a run that
// lost its lease (its worker paused past it, say) must not write over the run that took over, and
// recovery must not leave anything leased to a worker it swept.
import { describe, it, expect } from 'vitest';
import pg from 'pg';
import { backends } from './backends.js';
import {
  consumeSignal,
  endWait,
  endWaits,
  recordEntries,
  type Lease,
  type NewEntry,
} from '../src/workflow/history.js';
import { claimUnlimited } from '../src/sql/claim.js';
import { completeMany } from '../src/sql/finish.js';
import { recoverExpired, registerWorker } from '../src/sql/workers.js';
import type { PostgresDriver } from '../src/driver/postgres.js';
import { Client, defineJob, type Queryable, type Store } from '../src/index.js';

/** A running workflow execution leased to `worker`, attempt 1. */
async function runningWorkflow(store: Store, id: string, worker: string): Promise<Lease> {
  await store.driver.query(
    `INSERT INTO baton.executions (id, kind, name, status, claimable, attempts, lease_owner, started_at)
     VALUES ($1, 'workflow', 'fenced', 'running', false, 1, $2, now())`,
    [id, worker],
  );
  return { executionId: id, workerId: worker, attempt: 1 };
}

/** A completed step's entry at `seq`, as a run writes it. */
function stepEntry(seq: number, name: string, output: unknown): NewEntry {
  return {
    seq,
    kind: 'step',
    name,
    status: 'completed',
    attempts: 1,
    output: JSON.stringify(output),
    error: null,
    startedAt: new Date(),
    finishedAt: new Date(),
  };
}

for (const b of backends()) {
  describe(`lease fences (${b.name})`, () => {
    it('writes a batch of entries of many runs in one statement, each fenced on its own lease', async () => {
      const store = await b.open();
      const mine = await runningWorkflow(store, 'batch-1', 'w1');
      const taken = await runningWorkflow(store, 'batch-2', 'w1');
      const other = await runningWorkflow(store, 'batch-3', 'w1');
      // batch-2 was recovered and claimed again by another worker; batch-3 already has position 0.
      await store.driver.query(
        `UPDATE baton.executions SET lease_owner = 'w2', attempts = 2 WHERE id = 'batch-2'`,
      );
      await store.driver.query(
        `INSERT INTO baton.history (execution_id, seq, kind, name, status, output, started_at, finished_at)
         VALUES ('batch-3', 0, 'step', 's', 'completed', '"theirs"', now(), now())`,
      );
      const entry = (output: string): NewEntry => stepEntry(0, 's', output);
      const results = await recordEntries(store.driver, 'w1', [
        { lease: mine, entry: entry('mine') },
        { lease: taken, entry: entry('stale') },
        { lease: other, entry: entry('late') },
        // an earlier attempt of batch-1 (the same worker had it before): not its lease any more
        { lease: { ...mine, attempt: 0 }, entry: stepEntry(1, 't', 'earlier') },
      ]);
      expect(results).toEqual(['recorded', 'lost', 'conflict', 'lost']);
      const rows = await store.driver.query<{ execution_id: string; output: unknown }>(
        `SELECT execution_id, output FROM baton.history WHERE execution_id LIKE 'batch-%' ORDER BY execution_id`,
      );
      expect(rows).toEqual([
        { execution_id: 'batch-1', output: 'mine' },
        { execution_id: 'batch-3', output: 'theirs' },
      ]);
      await store.close();
    });

    it('completes runs with their last steps in one statement, each only if its lease holds and every step went in', async () => {
      const store = await b.open();
      await runningWorkflow(store, 'done-1', 'w1');
      await runningWorkflow(store, 'done-2', 'w1');
      await runningWorkflow(store, 'done-3', 'w1');
      await runningWorkflow(store, 'done-4', 'w1');
      // done-2 was taken over by another worker; done-3 already has position 1 (another run's).
      await store.driver.query(
        `UPDATE baton.executions SET lease_owner = 'w2', attempts = 2 WHERE id = 'done-2'`,
      );
      await store.driver.query(
        `INSERT INTO baton.history (execution_id, seq, kind, name, status, output, started_at, finished_at)
         VALUES ('done-3', 1, 'step', 'b', 'completed', '"theirs"', now(), now())`,
      );
      const completion = (id: string, entries: NewEntry[]) => ({
        id,
        attempt: 1,
        output: JSON.stringify(`result of ${id}`),
        hasParent: false,
        freesSlotOf: null,
        entries,
      });
      const recorded = await completeMany(store.driver, 'w1', [
        completion('done-1', [stepEntry(0, 'a', 1), stepEntry(1, 'b', 2)]),
        completion('done-2', [stepEntry(0, 'a', 'stale')]),
        completion('done-3', [stepEntry(0, 'a', 'mine'), stepEntry(1, 'b', 'mine')]),
        completion('done-4', []),
      ]);
      expect([...recorded].sort()).toEqual(['done-1', 'done-4']);
      const runs = await store.driver.query<{ id: string; status: string; output: unknown }>(
        `SELECT id, status, output FROM baton.executions WHERE id LIKE 'done-%' ORDER BY id`,
      );
      expect(runs).toEqual([
        { id: 'done-1', status: 'completed', output: 'result of done-1' },
        { id: 'done-2', status: 'running', output: null },
        { id: 'done-3', status: 'running', output: null },
        { id: 'done-4', status: 'completed', output: 'result of done-4' },
      ]);
      const history = await store.driver.query<{ execution_id: string; seq: number; output: unknown }>(
        `SELECT execution_id, seq, output FROM baton.history WHERE execution_id LIKE 'done-%' ORDER BY 1, 2`,
      );
      // Nothing of the run that lost its lease; the other run's position 1 stands.
      expect(history).toEqual([
        { execution_id: 'done-1', seq: 0, output: 1 },
        { execution_id: 'done-1', seq: 1, output: 2 },
        { execution_id: 'done-3', seq: 0, output: 'mine' },
        { execution_id: 'done-3', seq: 1, output: 'theirs' },
      ]);
      await store.close();
    });

    it('removes the completed jobs marked for it under the same fence, and completes instead those something refers to', async () => {
      const store = await b.open();
      const job = (id: string, parent: string | null = null) =>
        store.driver.query(
          `INSERT INTO baton.executions (id, kind, name, status, claimable, attempts, lease_owner, started_at, parent_id)
           VALUES ($1, 'job', 'gone', 'running', false, 1, 'w1', now(), $2)`,
          [id, parent],
        );
      for (const id of ['rm-1', 'rm-2', 'rm-4', 'rm-5', 'rm-6']) await job(id);
      await job('rm-3', 'some-parent');
      // rm-2 was recovered and is now another worker's second attempt; rm-5 is named by the ledger.
      await store.driver.query(
        `UPDATE baton.executions SET lease_owner = 'w2', attempts = 2 WHERE id = 'rm-2'`,
      );
      await store.driver.query(
        `INSERT INTO baton.run_contexts (execution_id, attempt, code, config_hash, seed) VALUES ('rm-5', 1, '"test"', NULL, NULL)`,
      );
      const completion = (id: string, remove: boolean, freesSlotOf: string | null = null) => ({
        id,
        attempt: 1,
        output: JSON.stringify(`result of ${id}`),
        hasParent: false,
        freesSlotOf,
        remove,
      });
      const recorded = await completeMany(store.driver, 'w1', [
        completion('rm-1', true),
        completion('rm-2', true),
        // a child marked by mistake: the statement's own check keeps it
        completion('rm-3', true),
        completion('rm-4', false),
        completion('rm-5', true),
      ]);
      expect([...recorded].sort()).toEqual(['rm-1', 'rm-3', 'rm-4', 'rm-5']);
      // A batch with nothing kept, freeing a queue's slot.
      expect([...(await completeMany(store.driver, 'w1', [completion('rm-6', true, 'default')]))]).toEqual([
        'rm-6',
      ]);
      const rows = await store.driver.query<{ id: string; status: string; output: unknown }>(
        `SELECT id, status, output FROM baton.executions WHERE id LIKE 'rm-%' ORDER BY id`,
      );
      expect(rows).toEqual([
        { id: 'rm-2', status: 'running', output: null },
        { id: 'rm-3', status: 'completed', output: 'result of rm-3' },
        { id: 'rm-4', status: 'completed', output: 'result of rm-4' },
        { id: 'rm-5', status: 'completed', output: 'result of rm-5' },
      ]);
      await store.close();
    });

    it('removes jobs in the same statement that completes a workflow with its last steps', async () => {
      const store = await b.open();
      await runningWorkflow(store, 'mix-wf', 'w1');
      await store.driver.query(
        `INSERT INTO baton.executions (id, kind, name, status, claimable, attempts, lease_owner, started_at)
         VALUES ('mix-job', 'job', 'gone', 'running', false, 1, 'w1', now())`,
      );
      const recorded = await completeMany(store.driver, 'w1', [
        {
          id: 'mix-wf',
          attempt: 1,
          output: '"flow done"',
          hasParent: false,
          freesSlotOf: null,
          entries: [stepEntry(0, 'a', 1)],
        },
        { id: 'mix-job', attempt: 1, output: 'null', hasParent: false, freesSlotOf: 'default', remove: true },
      ]);
      expect([...recorded].sort()).toEqual(['mix-job', 'mix-wf']);
      expect(
        await store.driver.query(`SELECT id, status, output FROM baton.executions WHERE id LIKE 'mix-%'`),
      ).toEqual([{ id: 'mix-wf', status: 'completed', output: 'flow done' }]);
      expect(
        await store.driver.query(`SELECT seq, output FROM baton.history WHERE execution_id = 'mix-wf'`),
      ).toEqual([{ seq: 0, output: 1 }]);
      await store.close();
    });

    it('ends the waits of many runs in one statement, each fenced on its own lease and only while it waits', async () => {
      const store = await b.open();
      const mine = await runningWorkflow(store, 'ends-1', 'w1');
      const taken = await runningWorkflow(store, 'ends-2', 'w1');
      const ended = await runningWorkflow(store, 'ends-3', 'w1');
      await store.driver.query(
        `UPDATE baton.executions SET lease_owner = 'w2', attempts = 2 WHERE id = 'ends-2'`,
      );
      // Three waiting children of ends-1, one of ends-2; ends-3's wait already ended with another result.
      await store.driver.query(
        `INSERT INTO baton.history (execution_id, seq, kind, name, status, output, started_at)
         VALUES ('ends-1', 0, 'activity', 'a', 'waiting', '{"childId": "c0"}', now()),
                ('ends-1', 1, 'activity', 'a', 'waiting', '{"childId": "c1"}', now()),
                ('ends-1', 2, 'activity', 'a', 'waiting', '{"childId": "c3"}', now()),
                ('ends-2', 0, 'activity', 'a', 'waiting', '{"childId": "c2"}', now())`,
      );
      await store.driver.query(
        `INSERT INTO baton.history (execution_id, seq, kind, name, status, output, started_at, finished_at)
         VALUES ('ends-3', 0, 'signal', 'go', 'completed', '{"payload": "green"}', now(), now())`,
      );
      const at = new Date();
      const results = await endWaits(store.driver, 'w1', [
        {
          lease: mine,
          end: { seq: 1, output: '{"childId": "c1", "result": 10}', at, settled: 0, failure: null },
        },
        {
          lease: taken,
          end: { seq: 0, output: '{"childId": "c2", "result": 20}', at, settled: 0, failure: null },
        },
        {
          lease: mine,
          end: { seq: 0, output: '{"childId": "c0"}', at, settled: 1, failure: '{"message": "failed: no"}' },
        },
        { lease: ended, end: { seq: 0, output: '{"timedOut": true}', at, settled: 0, failure: null } },
        // an earlier attempt of ends-1 (the same worker had it before): not its lease any more
        {
          lease: { ...mine, attempt: 0 },
          end: { seq: 2, output: '{"childId": "c3"}', at, settled: 2, failure: null },
        },
      ]);
      expect(results).toEqual([true, false, true, false, false]);
      const rows = await store.driver.query<{
        id: string;
        seq: number;
        status: string;
        output: unknown;
        error: unknown;
        settled: number | null;
      }>(
        `SELECT execution_id AS id, seq, status, output, error, settled FROM baton.history
         WHERE execution_id LIKE 'ends-%' ORDER BY 1, 2`,
      );
      expect(rows).toEqual([
        {
          id: 'ends-1',
          seq: 0,
          status: 'failed',
          output: { childId: 'c0' },
          error: { message: 'failed: no' },
          settled: 1,
        },
        {
          id: 'ends-1',
          seq: 1,
          status: 'completed',
          output: { childId: 'c1', result: 10 },
          error: null,
          settled: 0,
        },
        { id: 'ends-1', seq: 2, status: 'waiting', output: { childId: 'c3' }, error: null, settled: null },
        { id: 'ends-2', seq: 0, status: 'waiting', output: { childId: 'c2' }, error: null, settled: null },
        {
          id: 'ends-3',
          seq: 0,
          status: 'completed',
          output: { payload: 'green' },
          error: null,
          settled: null,
        },
      ]);
      await store.close();
    });

    it('ends a wait once when a batch holds it twice, and says which of the two ended it', async () => {
      const store = await b.open();
      const lease = await runningWorkflow(store, 'twice-1', 'w1');
      await store.driver.query(
        `INSERT INTO baton.history (execution_id, seq, kind, name, status, output, started_at)
         VALUES ('twice-1', 0, 'signal', 'go', 'waiting', '{}', now())`,
      );
      const at = new Date();
      const results = await endWaits(store.driver, 'w1', [
        { lease, end: { seq: 0, output: '{"payload": "a"}', at, settled: 0, failure: null } },
        { lease, end: { seq: 0, output: '{"payload": "b"}', at, settled: 1, failure: null } },
      ]);
      expect(results.filter(Boolean)).toHaveLength(1);
      const [h] = await store.driver.query<{ output: { payload: string }; settled: number }>(
        `SELECT output, settled FROM baton.history WHERE execution_id = 'twice-1' AND seq = 0`,
      );
      expect(h).toEqual(
        results[0] ? { output: { payload: 'a' }, settled: 0 } : { output: { payload: 'b' }, settled: 1 },
      );
      await store.close();
    });

    it('a wait that has ended is never ended again: the recorded signal stands', async () => {
      const store = await b.open();
      const lease = await runningWorkflow(store, 'fence-1', 'w1');
      await store.driver.query(
        `INSERT INTO baton.history (execution_id, seq, kind, name, status, output, started_at, finished_at)
         VALUES ('fence-1', 0, 'signal', 'go', 'completed', '{"payload": "green"}', now(), now())`,
      );
      // A late run deciding the same wait timed out must not overwrite the signal it received.
      expect(await endWait(store.driver, lease, 0, JSON.stringify({ timedOut: true }), new Date(), 0)).toBe(
        false,
      );
      const [h] = await store.driver.query<{ status: string; output: unknown }>(
        `SELECT status, output FROM baton.history WHERE execution_id = 'fence-1' AND seq = 0`,
      );
      expect(h).toEqual({ status: 'completed', output: { payload: 'green' } });
      await store.close();
    });

    it.skipIf(b.name === 'pglite')(
      'a signal cannot be taken by a run whose lease is being taken over: it waits, then learns it lost',
      async () => {
        const store = await b.open();
        const lease = await runningWorkflow(store, 'fence-2', 'w1');
        await store.driver.query(
          `INSERT INTO baton.signals (execution_id, name, payload) VALUES ('fence-2', 'go', '"green"')`,
        );
        // Recovery and a new claim, not yet committed, on another connection.
        const other = new pg.Client({ connectionString: (store.driver as PostgresDriver).url });
        await other.connect();
        await other.query('BEGIN');
        await other.query(
          `UPDATE baton.executions SET lease_owner = 'w2', attempts = 2 WHERE id = 'fence-2'`,
        );
        const taking = consumeSignal(store.driver, lease, 0, 'go', new Date(), 0);
        await new Promise((r) => setTimeout(r, 200));
        await other.query('COMMIT');
        await other.end();
        expect(await taking).toBe('lost');
        const [s] = await store.driver.query<{ consumed_seq: number | null }>(
          `SELECT consumed_seq FROM baton.signals WHERE execution_id = 'fence-2'`,
        );
        expect(s.consumed_seq).toBeNull();
        await store.close();
      },
    );

    it.skipIf(b.name === 'pglite')(
      'recovery waits for a claim in flight, so it never leaves rows leased to a worker it swept',
      async () => {
        const store = await b.open();
        const job = defineJob('race', { queue: 'race' }, async () => null);
        const ids = (await new Client(store).enqueueMany(job, [{ input: null }, { input: null }])).map(
          (e) => e.id,
        );
        await registerWorker(store.driver, {
          id: 'w-race',
          hostname: 'h',
          pid: 1,
          queues: ['race'],
          names: ['race'],
          leaseMs: 1000,
        });
        await store.driver.query(`UPDATE baton.workers SET heartbeat_at = now() - interval '1 hour'`);
        // The expired worker's last claim is still on its way when another worker sweeps it.
        const claimer = new pg.Client({ connectionString: (store.driver as PostgresDriver).url });
        await claimer.connect();
        const tx: Queryable = {
          query: async <R>(sql: string, params?: readonly unknown[]) =>
            (await claimer.query(sql, params as unknown[])).rows as R[],
          script: async (sql: string) => void (await claimer.query(sql)),
        };
        await claimer.query('BEGIN');
        expect((await claimUnlimited(tx, 'w-race', ['race'], ['race'], 10)).map((r) => r.id).sort()).toEqual(
          [...ids].sort(),
        );
        let swept: { id: string }[] | undefined;
        const sweeping = recoverExpired(store.driver).then((r) => (swept = r));
        await new Promise((r) => setTimeout(r, 200));
        expect(swept).toBeUndefined();
        await claimer.query('COMMIT');
        await claimer.end();
        await sweeping;
        expect(swept!.map((r) => r.id).sort()).toEqual([...ids].sort());
        const rows = await store.driver.query<{ status: string; lease_owner: string | null }>(
          'SELECT status, lease_owner FROM baton.executions WHERE id = ANY($1::text[])',
          [ids],
        );
        expect(rows).toEqual(ids.map(() => ({ status: 'queued', lease_owner: null })));
        await store.close();
      },
    );
  });
}
