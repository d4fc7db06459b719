// Crash and recovery with real worker processes on PostgreSQL.
import { describe, it, expect } from 'vitest';
import { eventually, sleep } from './backends.js';
import { slow } from './fixtures/effect-jobs.js';
import { processSuite } from './worker-processes.js';

const PG = process.env.BATON_PG_URL;

describe.skipIf(!PG)('worker processes on PostgreSQL', () => {
  const suite = processSuite();
  const effects = (id: string) =>
    suite.store.driver.query<{ attempt: number; pid: number; phase: string }>(
      'SELECT attempt, pid, phase FROM test_effects WHERE execution_id = $1 ORDER BY at',
      [id],
    );

  it('a job whose worker is SIGKILLed mid-run completes once, on another worker', async () => {
    const a = await suite.start({ LEASE_MS: '800' });
    const { id } = await suite.client.enqueue(slow, { ms: 1500 });
    await eventually(
      async () => (await effects(id)).some((e) => e.phase === 'start'),
      10_000,
      'job start on worker A',
    );
    a.child.kill('SIGKILL');
    await a.exited;
    const b = await suite.start({ LEASE_MS: '800' });
    const done = await suite.client.waitFor(id, { timeout: '30s' });
    expect(done.status).toBe('completed');
    expect(done.attempts).toBe(2);
    expect(done.workerId).toBe(b.id);
    expect(done.errors.map((e) => e.code)).toEqual(['E_LEASE_EXPIRED']);
    const fx = await effects(id);
    // Started twice (at-least-once), finished exactly once, by B.
    expect(fx.filter((e) => e.phase === 'start').map((e) => e.pid)).toEqual([a.child.pid, b.child.pid]);
    expect(fx.filter((e) => e.phase === 'end').map((e) => e.pid)).toEqual([b.child.pid]);
    b.child.kill('SIGTERM');
    expect(await b.exited).toBe(0);
  });

  it('two worker processes never run two jobs of one key at once', async () => {
    // Six keys and two handlers per process: neither process can take all the work, so both compete for every key.
    const ws = await Promise.all([suite.start({ CONCURRENCY: '2' }), suite.start({ CONCURRENCY: '2' })]);
    const jobs = await suite.client.enqueueMany(
      slow,
      Array.from({ length: 36 }, (_, i) => ({
        input: { ms: 30, key: `key-${i % 6}` },
        options: { concurrencyKey: `key-${i % 6}` },
      })),
    );
    for (const j of jobs)
      expect((await suite.client.waitFor(j.id, { timeout: '60s' })).status).toBe('completed');
    const spans = await suite.store.driver.query<{ key: string; start: Date; end: Date; pid: number }>(
      `SELECT s.key, s.at AS start, e.at AS end, s.pid FROM test_effects s
       JOIN test_effects e ON e.execution_id = s.execution_id AND e.attempt = s.attempt AND e.phase = 'end'
       WHERE s.phase = 'start' AND s.key IS NOT NULL ORDER BY s.at`,
    );
    expect(spans).toHaveLength(36);
    for (const key of ['key-0', 'key-1', 'key-2', 'key-3', 'key-4', 'key-5']) {
      const mine = spans.filter((s) => s.key === key);
      for (let i = 1; i < mine.length; i++)
        expect(mine[i].start.getTime()).toBeGreaterThanOrEqual(mine[i - 1].end.getTime());
    }
    // Both processes did work.
    expect(new Set(spans.map((s) => s.pid)).size).toBe(2);
    for (const w of ws) w.child.kill('SIGTERM');
    await Promise.all(ws.map((w) => w.exited));
  });

  it('a paused worker (SIGSTOP) loses its job and cannot commit over the worker that took it', async () => {
    const a = await suite.start({ LEASE_MS: '600' });
    const { id } = await suite.client.enqueue(slow, { ms: 300 });
    await eventually(async () => (await effects(id)).length > 0, 10_000, 'start on A');
    a.child.kill('SIGSTOP');
    const b = await suite.start({ LEASE_MS: '600' });
    const done = await suite.client.waitFor(id, { timeout: '30s' });
    expect(done.workerId).toBe(b.id);
    a.child.kill('SIGCONT');
    // A wakes up, finishes its stale attempt and tries to record it: the fence refuses.
    await eventually(
      async () => (await effects(id)).filter((e) => e.phase === 'end').length === 2,
      10_000,
      'A to finish its stale attempt',
    );
    await sleep(300);
    const after = await suite.client.get(id);
    expect(after.status).toBe('completed');
    expect(after.workerId).toBe(b.id);
    expect(after.attempts).toBe(2);
    expect(after.output).toEqual({ pid: b.child.pid });
    for (const p of [a, b]) p.child.kill('SIGTERM');
    await Promise.all([a.exited, b.exited]);
  });

  it('SIGTERM lets running jobs finish and gives unstarted ones back', async () => {
    const a = await suite.start({ CONCURRENCY: '2', SHUTDOWN_MS: '5000' });
    const jobs = await suite.client.enqueueMany(
      slow,
      Array.from({ length: 6 }, () => ({ input: { ms: 400 } })),
    );
    await eventually(
      async () => (await suite.client.list({ status: 'running', name: 'slow' })).length >= 2,
      10_000,
      'two running',
    );
    a.child.kill('SIGTERM');
    expect(await a.exited).toBe(0);
    const states = await Promise.all(jobs.map((j) => suite.client.get(j.id)));
    const completed = states.filter((s) => s.status === 'completed');
    const queued = states.filter((s) => s.status === 'queued');
    expect(completed.length).toBeGreaterThanOrEqual(2);
    expect(completed.length + queued.length).toBe(6);
    // Given back without spending an attempt.
    for (const q of queued) expect(q.attempts).toBe(0);
    const b = await suite.start();
    for (const j of jobs)
      expect((await suite.client.waitFor(j.id, { timeout: '30s' })).status).toBe('completed');
    b.child.kill('SIGTERM');
    await b.exited;
  });
});
