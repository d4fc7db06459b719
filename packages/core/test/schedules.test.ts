import { describe, it, expect } from 'vitest';
import { backends, eventually, sleep } from './backends.js';
import { Client, Worker, defineJob, defineSchedule } from '../src/index.js';
import { fireDueSchedules, firesToRun, ON_TIME_GRACE_MS } from '../src/schedule.js';

for (const b of backends()) {
  describe(`cron schedules (${b.name})`, () => {
    it('runs each fire exactly once with three workers racing', async () => {
      const store = await b.open();
      const runs: string[] = [];
      const job = defineJob('every-second', { queue: 'cron' }, async (_: null, ctx) => {
        runs.push(ctx.id);
      });
      const schedule = defineSchedule('every-second', { cron: '* * * * * *', job });
      const workers = [1, 2, 3].map(
        () => new Worker(store, { jobs: [job], schedules: [schedule], lease: 300, pollInterval: 50 }),
      );
      await Promise.all(workers.map((w) => w.start()));
      await sleep(3200);
      await Promise.all(workers.map((w) => w.stop()));
      const rows = await store.driver.query<{ key: string; n: number }>(
        `SELECT idempotency_key AS key, count(*)::int AS n FROM baton.executions WHERE name = 'every-second' GROUP BY 1 ORDER BY 1`,
      );
      expect(rows.length).toBeGreaterThanOrEqual(2);
      expect(rows.every((r) => r.n === 1)).toBe(true);
      // Consecutive fires, one second apart, none skipped.
      const times = rows.map((r) => Date.parse(r.key.replace('cron:every-second:', '')));
      for (let i = 1; i < times.length; i++) expect(times[i] - times[i - 1]).toBe(1000);
      expect(new Set(runs).size).toBe(runs.length);
      await store.close();
    });

    it('applies the missed-fire policy after downtime', async () => {
      const store = await b.open();
      const job = defineJob('hourly', { queue: 'cron2' }, async () => null);
      const policies = ['skip', 'latest', 'catch-up'] as const;
      const schedules = policies.map((missed) =>
        defineSchedule(`hourly-${missed}`, { cron: '0 * * * *', job, missed, maxCatchUp: 3 }),
      );
      const worker = new Worker(store, { jobs: [job], schedules });
      await worker.start();
      await worker.stop();
      // Pretend every worker was down for five hours and a half.
      await store.driver.query(
        `UPDATE baton.schedules SET next_fire_at = date_trunc('hour', now()) - interval '5 hours' WHERE name LIKE 'hourly-%'`,
      );
      // The newest fire (the current hour) is on time only if the test runs in the first 30 s of an hour.
      const now = new Date();
      const onTime = now.getTime() - new Date(now).setUTCMinutes(0, 0, 0) <= ON_TIME_GRACE_MS ? 1 : 0;
      expect(await fireDueSchedules(store.driver, schedules)).toBe(onTime + 1 + (3 + onTime));
      const count = async (name: string) =>
        (
          await store.driver.query<{ n: number }>(
            `SELECT count(*)::int AS n FROM baton.executions WHERE idempotency_key LIKE $1`,
            [`cron:${name}:%`],
          )
        )[0].n;
      expect(await count('hourly-skip')).toBe(onTime);
      expect(await count('hourly-latest')).toBe(1);
      expect(await count('hourly-catch-up')).toBe(3 + onTime);
      // Firing again right away does nothing: next_fire_at moved past now.
      expect(await fireDueSchedules(store.driver, schedules)).toBe(0);
      const next = await store.driver.query<{ ok: boolean }>(
        `SELECT bool_and(next_fire_at > now()) AS ok FROM baton.schedules`,
      );
      expect(next[0].ok).toBe(true);
      await store.close();
    });

    it('chooses fires by policy (unit)', () => {
      const job = defineJob('u', {}, async () => null);
      const now = new Date('2026-01-01T10:00:10Z');
      const due = ['07:00', '08:00', '09:00', '10:00'].map((t) => new Date(`2026-01-01T${t}:00Z`));
      const pick = (missed: 'skip' | 'latest' | 'catch-up') =>
        firesToRun(
          defineSchedule(`u-${missed}`, { cron: '0 * * * *', job, missed, maxCatchUp: 2 }),
          due,
          now,
        ).map((d) => d.toISOString().slice(11, 16));
      expect(pick('skip')).toEqual(['10:00']);
      expect(pick('latest')).toEqual(['10:00']);
      expect(pick('catch-up')).toEqual(['08:00', '09:00', '10:00']);
      expect(
        firesToRun(
          defineSchedule('u-l2', { cron: '0 * * * *', job, missed: 'latest' }),
          due.slice(0, 3),
          now,
        ).map((d) => d.toISOString()),
      ).toEqual(['2026-01-01T09:00:00.000Z']);
    });

    it('keeps the next fire across restarts unless the cron changes', async () => {
      const store = await b.open();
      const job = defineJob('daily', { queue: 'cron3' }, async () => null);
      const start = async (cron: string) => {
        const w = new Worker(store, { jobs: [job], schedules: [defineSchedule('daily', { cron, job })] });
        await w.start();
        await w.stop();
        return (
          await store.driver.query<{ next: Date }>(
            `SELECT next_fire_at AS next FROM baton.schedules WHERE name = 'daily'`,
          )
        )[0].next;
      };
      const first = await start('0 3 * * *');
      expect(new Date(first).getUTCHours()).toBe(3);
      expect(await start('0 3 * * *')).toEqual(first);
      expect(new Date(await start('30 4 * * *')).getUTCMinutes()).toBe(30);
      await store.close();
    });
  });
}

describe('schedule client use', () => {
  it('a schedule can be enqueued by the client like any job', async () => {
    const [b] = backends();
    const store = await b.open();
    const job = defineJob('manual', {}, async () => 'ran');
    const w = new Worker(store, { jobs: [job], pollInterval: 50 });
    await w.start();
    const client = new Client(store);
    const { id } = await client.enqueue('manual', null);
    await eventually(async () => (await client.get(id)).status === 'completed');
    await w.stop();
    await store.close();
  });
});
