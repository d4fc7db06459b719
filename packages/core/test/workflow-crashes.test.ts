// Workflow crash and recovery with real worker processes on PostgreSQL: SIGKILL during a step,
// between a step's checkpoint and the next step, and during a durable sleep.
import { describe, it, expect, beforeAll, afterAll, afterEach } from 'vitest';
import { freshDatabase, eventually, quietLogger } from './backends.js';
import { startWorker, type Proc } from './worker-processes.js';
import { Client, Store } from '../src/index.js';
import { EFFECTS_TABLE, crashy } from './fixtures/effect-jobs.js';

const PG = process.env.BATON_PG_URL;

describe.skipIf(!PG)('workflow crashes on PostgreSQL', () => {
  let url: string;
  let store: Store;
  let client: Client;
  const procs: Proc[] = [];
  beforeAll(async () => {
    url = await freshDatabase();
    store = await Store.open({ databaseUrl: url, logger: quietLogger() });
    await store.migrate();
    client = new Client(store);
    await store.driver.query(EFFECTS_TABLE);
  });
  afterEach(async () => {
    for (const p of procs.splice(0)) {
      p.child.kill('SIGKILL');
      await p.exited;
    }
  });
  afterAll(async () => {
    await store.close();
  });

  /** How many times each step's side effect started and ended for one workflow. */
  async function effects(id: string): Promise<Record<string, { start: number; end: number }>> {
    const rows = await store.driver.query<{ key: string; phase: 'start' | 'end'; n: number }>(
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
    const a = await startWorker(url, { LEASE_MS: '800' });
    procs.push(a);
    const { id } = await client.start(crashy, input);
    await eventually(() => killWhen(id), 15_000, 'the moment to kill the worker');
    a.child.kill('SIGKILL');
    await a.exited;
    const b = await startWorker(url, { LEASE_MS: '800' });
    procs.push(b);
    const result = (await client.result(id, { timeout: '30s' })) as string[];
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
    const d = await client.describe(id);
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
      async (id) => (await effects(id)).a?.end === 1,
    );
    // Step a's recorded result (from the first worker) is what the workflow used after the crash.
    expect(result).toEqual([`a@${a.child.pid}`, `b@${b.child.pid}`, `c@${b.child.pid}`]);
    const fx = await effects(id);
    expect(fx).toEqual({ a: { start: 1, end: 1 }, b: { start: 1, end: 1 }, c: { start: 1, end: 1 } });
  });

  it('SIGKILL during a durable sleep: the workflow wakes on another worker when due, no step re-runs', async () => {
    const { id, result, a, b } = await crashAndRecover(
      { stepMs: 10, gapMs: 0, sleepMs: 2500 },
      async (id) => (await client.get(id)).status === 'waiting',
    );
    expect(result).toEqual([`a@${a.child.pid}`, `b@${a.child.pid}`, `c@${b.child.pid}`]);
    const fx = await effects(id);
    expect(fx).toEqual({ a: { start: 1, end: 1 }, b: { start: 1, end: 1 }, c: { start: 1, end: 1 } });
    const sleepEntry = (await client.describe(id)).history[2];
    expect(sleepEntry.finishedAt!.getTime() - sleepEntry.startedAt.getTime()).toBeGreaterThanOrEqual(2400);
  });
});
