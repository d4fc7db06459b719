// Workflow crash and recovery with real worker processes on PostgreSQL: SIGKILL during a step,
// between a step's checkpoint and the next step, and during a durable sleep.
import { describe, it, expect } from 'vitest';
import { eventually } from './backends.js';
import { processSuite } from './worker-processes.js';
import { crashy, racer } from './fixtures/effect-jobs.js';

const PG = process.env.BATON_PG_URL;

describe.skipIf(!PG)('workflow crashes on PostgreSQL', () => {
  const suite = processSuite();

  /** How many times each step's side effect started and ended for one workflow. */
  async function effects(id: string): Promise<Record<string, { start: number; end: number }>> {
    const rows = await suite.store.driver.query<{ key: string; phase: 'start' | 'end'; n: number }>(
      `SELECT key, phase, count(*)::int AS n FROM test_effects WHERE execution_id = $1 GROUP BY key, phase`,
      [id],
    );
    const out: Record<string, { start: number; end: number }> = {};
    for (const r of rows) (out[r.key] ??= { start: 0, end: 0 })[r.phase] = r.n;
    return out;
  }

  async function crashAndRecover(
    input: { stepMs: number; gapMs: number; sleepMs: number },
    killWhen: (id: string) => Promise<boolean>,
  ) {
    const a = await suite.start({ LEASE_MS: '800' });
    const { id } = await suite.client.start(crashy, input);
    await eventually(() => killWhen(id), 15_000, 'the moment to kill the worker');
    a.child.kill('SIGKILL');
    await a.exited;
    const b = await suite.start({ LEASE_MS: '800' });
    const result = (await suite.client.result(id, { timeout: '30s' })) as string[];
    return { id, result, a, b };
  }

  it('SIGKILL during a step: the step runs again (at least once), earlier work does not', async () => {
    const { id, result, b } = await crashAndRecover(
      { stepMs: 1500, gapMs: 0, sleepMs: 10 },
      async (id) => (await effects(id)).a?.start === 1,
    );
    expect(result).toEqual([`a@${b.child.pid}`, `b@${b.child.pid}`, `c@${b.child.pid}`]);
    const fx = await effects(id);
    expect(fx.a).toEqual({ start: 2, end: 1 });
    expect(fx.b).toEqual({ start: 1, end: 1 });
    expect(fx.c).toEqual({ start: 1, end: 1 });
    const d = await suite.client.describe(id);
    expect(d.history.map((h) => [h.name, h.status])).toEqual([
      ['a', 'completed'],
      ['b', 'completed'],
      ['sleep', 'completed'],
      ['c', 'completed'],
    ]);
  });

  it("SIGKILL between a step's checkpoint and the next step: nothing runs twice", async () => {
    const { id, result, a, b } = await crashAndRecover(
      { stepMs: 10, gapMs: 1500, sleepMs: 10 },
      // Kill once step a's checkpoint is committed (its side effect alone is not enough: the
      // checkpoint is written just after it), while the workflow waits in the gap before b.
      async (id) =>
        (await suite.client.describe(id)).history.some((h) => h.name === 'a' && h.status === 'completed'),
    );
    // Step a's recorded result (from the first worker) is what the workflow used after the crash.
    expect(result).toEqual([`a@${a.child.pid}`, `b@${b.child.pid}`, `c@${b.child.pid}`]);
    const fx = await effects(id);
    expect(fx).toEqual({ a: { start: 1, end: 1 }, b: { start: 1, end: 1 }, c: { start: 1, end: 1 } });
  });

  it('SIGKILL during a durable sleep: the workflow wakes on another worker when due, no step re-runs', async () => {
    const { id, result, a, b } = await crashAndRecover(
      { stepMs: 10, gapMs: 0, sleepMs: 2500 },
      async (id) => (await suite.client.get(id)).status === 'waiting',
    );
    expect(result).toEqual([`a@${a.child.pid}`, `b@${a.child.pid}`, `c@${b.child.pid}`]);
    const fx = await effects(id);
    expect(fx).toEqual({ a: { start: 1, end: 1 }, b: { start: 1, end: 1 }, c: { start: 1, end: 1 } });
    const sleepEntry = (await suite.client.describe(id)).history[2];
    expect(sleepEntry.finishedAt!.getTime() - sleepEntry.startedAt.getTime()).toBeGreaterThanOrEqual(2400);
  });

  it('SIGKILL after a Promise.race: the worker that replays it decides as the first did', async () => {
    const a = await suite.start({ LEASE_MS: '800' });
    const { id } = await suite.client.start(racer, null);
    await eventually(async () => (await effects(id)).long?.start === 1, 15_000, 'the long step to start');
    a.child.kill('SIGKILL');
    await a.exited;
    await suite.start({ LEASE_MS: '800' });
    expect(await suite.client.result(id, { timeout: '30s' })).toBe('fast');
    const d = await suite.client.describe(id);
    expect(d.history.map((h) => [h.name, h.status])).toEqual([
      ['slow', 'completed'],
      ['fast', 'completed'],
      ['after-fast', 'completed'],
      ['long', 'completed'],
    ]);
    const fx = await effects(id);
    expect(fx['after-fast']).toEqual({ start: 1, end: 1 });
    expect(fx.long).toEqual({ start: 2, end: 1 });
  });
});
