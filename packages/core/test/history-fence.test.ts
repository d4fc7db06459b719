// A run that lost its lease (its worker paused past the lease, say) must not write over the run
// that took the workflow over: these drive the history statements directly to pin that down.
import { describe, it, expect } from 'vitest';
import pg from 'pg';
import { backends } from './backends.js';
import { consumeSignal, endWait, type Lease } from '../src/workflow/history.js';
import type { PostgresDriver } from '../src/driver/postgres.js';
import type { Store } from '../src/index.js';

/** A running workflow execution leased to `worker`, attempt 1. */
async function runningWorkflow(store: Store, id: string, worker: string): Promise<Lease> {
  await store.driver.query(
    `INSERT INTO baton.executions (id, kind, name, status, claimable, attempts, lease_owner, started_at)
     VALUES ($1, 'workflow', 'fenced', 'running', false, 1, $2, now())`,
    [id, worker],
  );
  return { executionId: id, workerId: worker, attempt: 1 };
}

for (const b of backends()) {
  describe(`history fence (${b.name})`, () => {
    it('a wait that has ended is never ended again: the recorded signal stands', async () => {
      const store = await b.open();
      const lease = await runningWorkflow(store, 'fence-1', 'w1');
      await store.driver.query(
        `INSERT INTO baton.history (execution_id, seq, kind, name, status, output, started_at, finished_at)
         VALUES ('fence-1', 0, 'signal', 'go', 'completed', '{"payload": "green"}', now(), now())`,
      );
      // A late run deciding the same wait timed out must not overwrite the signal it received.
      expect(await endWait(store.driver, lease, 0, JSON.stringify({ timedOut: true }), new Date())).toBe(
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
        const taking = consumeSignal(store.driver, lease, 0, 'go', new Date());
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
  });
}
