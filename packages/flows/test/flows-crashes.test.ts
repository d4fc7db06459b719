// YAML workflows survive SIGKILL of their worker process (PostgreSQL, separate processes): a crash
// mid-foreach and a crash mid-compensation. Each step's side effect happens once, or, for the steps
// that were running at the kill, at least once: what the history recorded never runs again.
import { afterEach, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Store } from '@baton/core';
import { eventually, quietLogger } from '../../core/test/backends.js';
import { loadConfig } from '../src/config/load.js';
import { createFlows } from '../src/workflows/index.js';
import { processSuite } from '../../core/test/worker-processes.js';
import { configDir } from './config-helpers.js';

const PG = process.env.BATON_PG_URL;
const SCRIPT = fileURLToPath(new URL('./fixtures/flows-worker.ts', import.meta.url));

const CONFIG = configDir({
  'base/workflows.yaml': `workflows:
  fanout:
    input: { keys: list }
    steps:
      - id: each
        type: foreach
        items: input.keys
        concurrency: 2
        steps:
          - { type: function, function: effect, input: { key: '\${item}', ms: 400 } }
  saga:
    steps:
      - id: one
        type: function
        function: effect
        input: { key: do1, ms: 10 }
        compensate: { type: function, function: effect, input: { key: undo1, ms: 10 } }
      - id: two
        type: function
        function: effect
        input: { key: do2, ms: 10 }
        compensate: { type: function, function: effect, input: { key: undo2, ms: 1500 } }
      - id: three
        type: function
        function: effect
        input: { key: do3, ms: 10 }
        compensate: { type: function, function: effect, input: { key: undo3, ms: 10 } }
      - { id: boom, type: fail, message: out of stock }
    error_handling:
      - { on_error: any, action: rollback }
`,
});

interface Proc {
  kill(): Promise<void>;
  pid: number;
}

describe.skipIf(!PG)('YAML workflow crashes on PostgreSQL', () => {
  const suite = processSuite();
  const procs: Proc[] = [];
  // No worker of one test may take the next test's runs.
  afterEach(async () => {
    for (const p of procs.splice(0)) await p.kill();
  });

  function startFlowsWorker(): Promise<Proc> {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      env: { ...process.env, BATON_DATABASE_URL: suite.url, FLOWS_CONFIG_DIR: CONFIG, LEASE_MS: '800' },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((r) => child.on('exit', () => r()));
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (/ready \S+/.test(out)) {
          const p = { pid: child.pid!, kill: () => (child.kill('SIGKILL'), exited) };
          procs.push(p);
          resolve(p);
        }
      });
      child.on('exit', (code) =>
        reject(new Error(`flows worker exited with ${code} before it was ready: ${out}`)),
      );
    });
  }

  /** Per key: how many times its effect started and ended, in this run. */
  async function effects(run: string): Promise<Record<string, { start: number; end: number }>> {
    const rows = await suite.store.driver.query<{ key: string; phase: 'start' | 'end'; n: number }>(
      'SELECT key, phase, count(*)::int AS n FROM test_effects WHERE execution_id = $1 GROUP BY key, phase',
      [run],
    );
    const out: Record<string, { start: number; end: number }> = {};
    for (const r of rows) (out[r.key] ??= { start: 0, end: 0 })[r.phase] = r.n;
    return out;
  }

  /** Starts a run from this process, as `baton flows run --detach` would; the worker processes serve it. */
  async function start(name: string, input: unknown): Promise<string> {
    const store = await Store.open({ databaseUrl: suite.url, logger: quietLogger() });
    try {
      const config = await loadConfig(CONFIG);
      const flows = await createFlows({ store, config: () => config });
      return (await flows.start(name, input)).id;
    } finally {
      await store.close();
    }
  }

  it('SIGKILL mid-foreach: items recorded before the kill do not run again, the rest run at least once', async () => {
    const a = await startFlowsWorker();
    const keys = ['k1', 'k2', 'k3', 'k4', 'k5', 'k6'];
    const run = await start('fanout', { keys });
    // Kill once two items are recorded done and others are running.
    const recorded = async () =>
      (await suite.client.describe(run)).history
        .filter((h) => h.status === 'completed')
        .map((h) => (h.output as { key?: string } | null)?.key)
        .filter((k): k is string => k !== undefined);
    await eventually(
      async () => (await recorded()).length >= 2 && Object.keys(await effects(run)).length >= 3,
      20_000,
      'two items recorded and others running',
    );
    await a.kill();
    const recordedBefore = await recorded();
    expect(recordedBefore.length).toBeGreaterThanOrEqual(2);
    await startFlowsWorker();
    const out = (await suite.client.result(run, { timeout: '40s' })) as {
      steps: { each: { key: string }[] };
    };
    expect(out.steps.each.map((e) => e.key)).toEqual(keys);
    const fx = await effects(run);
    for (const k of keys) expect(fx[k]!.end, k).toBeGreaterThanOrEqual(1);
    // Only the items in flight at the kill (at most the concurrency, 2) ran twice.
    const twice = keys.filter((k) => fx[k]!.start > 1);
    expect(twice.length).toBeLessThanOrEqual(2);
    // What was recorded before the kill never ran again.
    for (const k of recordedBefore) expect(fx[k]!.start, `${k} was recorded before the kill`).toBe(1);
  });

  it('SIGKILL mid-compensation: compensations finish newest first, done ones are not repeated', async () => {
    const a = await startFlowsWorker();
    const run = await start('saga', {});
    await eventually(async () => (await effects(run)).undo2?.start === 1, 20_000, 'undo2 running');
    await a.kill();
    await startFlowsWorker();
    await expect(suite.client.result(run, { timeout: '40s' })).rejects.toThrow(/out of stock/);
    const fx = await effects(run);
    expect(fx.do1).toEqual({ start: 1, end: 1 });
    expect(fx.do2).toEqual({ start: 1, end: 1 });
    expect(fx.do3).toEqual({ start: 1, end: 1 });
    expect(fx.undo3).toEqual({ start: 1, end: 1 });
    expect(fx.undo2).toEqual({ start: 2, end: 1 });
    expect(fx.undo1).toEqual({ start: 1, end: 1 });
    const order = await suite.store.driver.query<{ key: string }>(
      `SELECT key FROM test_effects WHERE execution_id = $1 AND phase = 'end' AND key LIKE 'undo%' ORDER BY at`,
      [run],
    );
    expect(order.map((r) => r.key)).toEqual(['undo3', 'undo2', 'undo1']);
  });
});
