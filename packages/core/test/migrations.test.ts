// Upgrading a store that holds data: every migration must keep what an earlier version stored.
import { describe, it, expect } from 'vitest';
import { backends } from './backends.js';
import { Client, EXECUTION_KINDS, EXECUTION_STATUSES, loadMigrations, migrate } from '../src/index.js';

for (const b of backends()) {
  describe(`migrations (${b.name})`, () => {
    it('upgrades a store written by the schema of version 4, keeping every execution and its history', async () => {
      const store = await b.openEmpty();
      try {
        await migrate(
          store.driver,
          loadMigrations().filter((m) => m.version <= 4),
        );
        // What Baton with schema 4 stored: every status and kind as text, a workflow with history,
        // a signal and an event, all finished long ago.
        await store.driver.script(`
          INSERT INTO baton.executions (id, kind, name, status, claimable, input, output, finished_at)
          VALUES ('q', 'job', 'j', 'queued', true, '1', NULL, NULL),
                 ('r', 'activity', 'a', 'running', false, '2', NULL, NULL),
                 ('w', 'workflow', 'wf', 'waiting', false, '3', NULL, NULL),
                 ('c', 'workflow', 'wf', 'completed', false, '4', '"done"', now() - interval '30 days'),
                 ('f', 'job', 'j', 'failed', false, '5', NULL, now() - interval '60 days'),
                 ('x', 'job', 'j', 'cancelled', false, '6', NULL, now() - interval '60 days');
          INSERT INTO baton.history (execution_id, seq, kind, name, status, attempts, input, output, started_at, finished_at)
          VALUES ('c', 0, 'step', 'one', 'completed', 1, '{"n":1}', '"ok"', now(), now());
          INSERT INTO baton.signals (execution_id, name, payload, consumed_seq) VALUES ('c', 'go', '{}', 1);
          INSERT INTO baton.events (execution_id, key, value) VALUES ('c', 'stage', '"end"');
        `);

        expect(await store.migrate()).toEqual(
          loadMigrations()
            .map((m) => m.version)
            .filter((v) => v > 4),
        );

        const client = new Client(store);
        const all = await client.list({ limit: 100 });
        expect(all.map((e) => [e.id, e.kind, e.status]).sort()).toEqual([
          ['c', 'workflow', 'completed'],
          ['f', 'job', 'failed'],
          ['q', 'job', 'queued'],
          ['r', 'activity', 'running'],
          ['w', 'workflow', 'waiting'],
          ['x', 'job', 'cancelled'],
        ]);
        expect(EXECUTION_STATUSES.every((s) => all.some((e) => e.status === s))).toBe(true);
        expect(EXECUTION_KINDS.every((k) => all.some((e) => e.kind === k))).toBe(true);
        expect((await client.list({ status: ['failed', 'cancelled'] })).map((e) => e.id).sort()).toEqual([
          'f',
          'x',
        ]);
        expect((await client.list({ kind: 'activity' })).map((e) => e.id)).toEqual(['r']);
        expect((await client.describe('c')).history).toMatchObject([
          { name: 'one', input: { n: 1 }, output: 'ok' },
        ]);

        // Pruning removes a finished execution with everything that belongs to it.
        expect(await client.prune({ completed: '7d', failed: '7d' })).toBe(3);
        for (const table of ['history', 'signals', 'events']) {
          const [row] = await store.driver.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM baton.${table}`,
          );
          expect({ table, rows: row.n }).toEqual({ table, rows: 0 });
        }
        expect((await client.list()).map((e) => e.id).sort()).toEqual(['q', 'r', 'w']);
      } finally {
        await store.close();
      }
    });
  });
}
