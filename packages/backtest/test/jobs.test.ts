// Backtests on the engine: a run is a durable job whose outputs are ledger artifacts and whose re-run
// reproduces them; bad input fails at once; a sweep killed mid-way resumes without redoing runs.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Store, Worker, type Execution } from '@baton/core';
import { eventually, freshDatabase, quietLogger } from '../../core/test/backends.js';
import {
  backtestRun,
  backtestSweep,
  gridPoints,
  rankPoints,
  type BacktestSummary,
  type SweepPoint,
} from '../src/index.js';
import { MANIFEST, SAMPLE_CSV } from './fixtures.js';

const BACKENDS = process.env.BATON_PG_URL ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

const tempBlobs = () => mkdtempSync(join(tmpdir(), 'baton-bt-blobs-'));

/** A fresh, migrated store on PGlite in memory or a database of its own on the test server. */
async function openStore(backend: 'pglite' | 'postgres'): Promise<Store> {
  const store = await Store.open(
    backend === 'postgres'
      ? { databaseUrl: await freshDatabase(), logger: quietLogger(), blobDir: tempBlobs() }
      : { dataDir: 'memory://', logger: quietLogger(), blobDir: tempBlobs() },
  );
  await store.migrate();
  return store;
}

for (const backend of BACKENDS) {
  describe(`backtest jobs (${backend})`, () => {
    let store: Store;
    let client: Client;
    let worker: Worker;
    beforeAll(async () => {
      store = await openStore(backend);
      client = new Client(store);
      worker = new Worker(store, {
        jobs: [backtestRun],
        workflows: [backtestSweep],
        queues: ['backtest'],
        pollInterval: 50,
        concurrency: 2,
      });
      await worker.start();
    });
    afterAll(async () => {
      await worker.stop({ deadline: 2000 });
      await store.close();
    });

    it('stores the inputs and five outputs in the ledger; a re-run with the same inputs gives the same digests', async () => {
      const input = { manifest: MANIFEST, csv: SAMPLE_CSV, mode: 'bridge' as const };
      const a = await client.enqueue(backtestRun, input);
      const b2 = await client.enqueue(backtestRun, input);
      const ra = await client.result<BacktestSummary>(a.id, { timeout: '60s' });
      const rb = await client.result<BacktestSummary>(b2.id, { timeout: '60s' });
      expect(ra.mode).toBe('bridge');
      expect(ra.bars).toBe(5000);
      expect(Object.keys(ra.artifacts).sort()).toEqual([
        'daily.csv',
        'metrics.json',
        'params.json',
        'records.csv',
        'state.json',
      ]);
      expect(rb.artifacts).toEqual(ra.artifacts);
      const inputs = async (id: string) =>
        (await client.artifacts.list(id))
          .filter((x) => x.role === 'input')
          .map((x) => `${x.name} ${x.digest}`)
          .sort();
      expect(await inputs(a.id)).toHaveLength(2);
      expect(await inputs(b2.id)).toEqual(await inputs(a.id));
      const metrics = (
        await client.artifacts.get({ execution: a.id, name: 'metrics.json' })
      ).json() as Record<string, unknown>;
      expect(metrics).toMatchObject({
        trades: ra.trades,
        sharpe: ra.sharpe,
        manifest_id: 'day_orb_5m_v1',
        mode: 'bridge',
        equity: 100000,
      });
      const cmp = await client.artifacts.compare(a.id, b2.id);
      expect(cmp.sameInputs).toBe(true);
      expect(cmp.sameOutputs).toBe(true);
      expect(cmp.verdict === 'reproduced' || cmp.verdict === 'undetermined').toBe(true);
    });

    it('fails a run with a bad manifest at once, naming file:line:col, without retries', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'baton-bt-'));
      const bad = join(dir, 'bad.yaml');
      writeFileSync(bad, readFileSync(MANIFEST, 'utf8').replace('    or_n: 6', '    or_n: six'));
      const { id } = await client.enqueue(backtestRun, { manifest: bad, csv: SAMPLE_CSV });
      const e = await client.waitFor(id, { timeout: '30s' });
      expect(e.status).toBe('failed');
      expect(e.attempts).toBe(1);
      expect(e.error?.message).toMatch(
        /bad\.yaml:21:11: error \[E_CONFIG_INVALID\] strategy\.parameters\.or_n: expected number, found 'six' \(text\)$/,
      );
    });

    it('a sweep runs every grid point once, at most `concurrency` at once, and returns them in grid order', async () => {
      const grid = { or_n: [4, 6], k_tp: [1.0, 1.25] };
      const { id } = await client.start(backtestSweep, {
        manifest: MANIFEST,
        csv: SAMPLE_CSV,
        grid,
        concurrency: 2,
      });
      const { points } = await client.result<{ points: SweepPoint[] }>(id, { timeout: '120s' });
      expect(points.map((p) => p.overrides)).toEqual(gridPoints(grid));
      expect(new Set(points.map((p) => p.execution)).size).toBe(4);
      const six = points.find((p) => p.overrides.or_n === 6 && p.overrides.k_tp === 1.25)!;
      const plain = await client.result<BacktestSummary>(
        (await client.enqueue(backtestRun, { manifest: MANIFEST, csv: SAMPLE_CSV })).id,
        { timeout: '60s' },
      );
      if (six.error !== undefined) throw new Error(six.error);
      expect(six.artifacts['records.csv']).toBe(plain.artifacts['records.csv']);
    });

    it('a point whose run fails is reported as failed; the other points still run', async () => {
      // k_sl must be positive: that run fails at once (the CLI refuses such a grid before it starts)
      const { id } = await client.start(backtestSweep, {
        manifest: MANIFEST,
        csv: SAMPLE_CSV,
        grid: { k_sl: [-1, 0.6] },
      });
      const { points } = await client.result<{ points: SweepPoint[] }>(id, { timeout: '60s' });
      expect(points[0]!.error).toMatch(/strategy parameter k_sl = -1: Too small/);
      expect(points[1]!.error).toBeUndefined();
      expect(rankPoints(points, 'sharpe').map((p) => p.overrides.k_sl)).toEqual([0.6, -1]);
    });
  });
}

const CLI = fileURLToPath(new URL('../../cli/dist/bin.js', import.meta.url));

describe.runIf(process.env.BATON_PG_URL)(
  'a sweep whose worker is killed (PostgreSQL, real processes)',
  () => {
    let url: string;
    const procs: ChildProcess[] = [];
    const startWorker = () => {
      const p = spawn(
        process.execPath,
        [CLI, 'backtest', 'worker', '--database', url, '--concurrency', '2', '--lease', '2s'],
        { stdio: 'ignore', env: { ...process.env, BATON_BLOB_DIR: blobs } },
      );
      procs.push(p);
      return p;
    };
    beforeAll(async () => {
      url = await freshDatabase();
    });
    const blobs = tempBlobs();
    afterAll(() => {
      for (const p of procs) p.kill('SIGKILL');
    });

    it('resumes after SIGKILL: every grid point completes exactly once, finished runs are not redone', async () => {
      const store = await Store.open({ databaseUrl: url, logger: quietLogger(), blobDir: blobs });
      try {
        await store.migrate();
        const client = new Client(store);
        const grid = { or_n: [4, 5, 6, 7], k_tp: [1.0, 1.25, 1.5] };
        const { id } = await client.start(backtestSweep, {
          manifest: MANIFEST,
          csv: SAMPLE_CSV,
          grid,
          concurrency: 2,
        });
        const children = async () =>
          (await client.list({ name: 'backtest.run', limit: 100 })).filter((e) => e.parentId === id);
        const first = startWorker();
        let before: Execution[] = [];
        await eventually(
          async () => (await children()).filter((e) => e.status === 'completed').length >= 2,
          60_000,
          'two finished runs',
        );
        first.kill('SIGKILL');
        await new Promise((r) => first.once('exit', r));
        before = (await children()).filter((e) => e.status === 'completed');
        expect(before.length).toBeLessThan(12);

        startWorker();
        const { points } = await client.result<{ points: SweepPoint[] }>(id, { timeout: '120s' });
        expect(points.map((p) => p.overrides)).toEqual(gridPoints(grid));
        const after = await children();
        expect(after).toHaveLength(12);
        expect(after.every((e) => e.status === 'completed')).toBe(true);
        // runs finished before the kill were not run again
        for (const done of before) {
          const now = after.find((e) => e.id === done.id)!;
          expect(now.attempts).toBe(done.attempts);
          expect(now.finishedAt?.getTime()).toBe(done.finishedAt?.getTime());
        }
      } finally {
        await store.close();
      }
    });
  },
);
