// `npm run bench -- backtest [--repeat N] [--bars N]`: the Day ORB runner of @baton/backtest.
// 1. One run over a 1,000,000-bar 5-minute random walk (seeded): bars/s and memory, beside a plain
//    loop doing the same work (ATR + ORB logic, same trades) in the same process.
// 2. A 32-point sweep over the sample bars as a durable workflow on PostgreSQL, with 1 and then 2
//    worker processes: wall time and the speed-up.
// 3. Tracing's cost: `npm run bench -- jobs --systems baton,baton_traced` in a child process.
// It times the built packages, as users run them (`npm run build` first): under tsx every call
// between modules goes through an export getter, which would bill Baton for the loader.
// Medians over --repeat runs. Last line: {"suite":"backtest","bars_per_s","vs_plain_loop","sweep_speedup_2_workers","tracing_overhead"}.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { Client, Store, createLogger } from '@baton/core';
import {
  backtestSweep,
  loadManifest,
  parseBars,
  runBacktest,
  runSettings,
  type Bars,
  type SweepPoint,
} from '@baton/backtest';
import { plainDayOrb } from './_backtest-plain.js';
import { BenchDatabases } from './_databases.js';
import { intArg } from './_args.js';
import { watchLoad } from './_load.js';
import { gc } from './_gc.js';

const log = (msg: string) => console.log(msg);
const load = watchLoad(log);
const REPEAT = intArg('repeat', 5);
const N = intArg('bars', 1_000_000);
const fixture = (name: string) =>
  fileURLToPath(new URL(`../examples/backtest/invest4/${name}`, import.meta.url));
const MANIFEST = fixture('day_orb_5m.yaml');
const SAMPLE = fixture('sample_orb.csv');
// Without the loss-streak lock, which would stop trading for good after a few dozen trades.
const settings = runSettings(loadManifest(MANIFEST).value, {
  mode: 'conservative',
  overrides: { max_loss_streak: 0 },
});
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** A seeded USDJPY-like 5-minute random walk (mulberry32), 3 pips of noise per bar. */
function randomWalk(n: number): Bars {
  let seed = 20180101;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) >>> 0;
    let t = seed;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const o = new Float64Array(n),
    h = new Float64Array(n),
    l = new Float64Array(n),
    c = new Float64Array(n);
  const ts: string[] = new Array(n);
  let px = 112;
  const t0 = Date.UTC(2018, 0, 1);
  for (let i = 0; i < n; i++) {
    o[i] = px;
    px += (rnd() - 0.5) * 0.06;
    c[i] = px;
    h[i] = Math.max(o[i]!, px) + rnd() * 0.02;
    l[i] = Math.min(o[i]!, px) - rnd() * 0.02;
    ts[i] = new Date(t0 + i * 300_000).toISOString().slice(0, 19).replace('T', ' ');
  }
  return {
    length: n,
    ts,
    tf: new Array(n).fill('5m'),
    o,
    h,
    l,
    c,
    v: new Float64Array(n),
    spread: new Float64Array(n).fill(0.005),
    zscore: new Float64Array(n).fill(NaN),
  };
}

// 1. One long run.
const bars = randomWalk(N);
const rssBefore = process.memoryUsage().rss;
const batonMs: number[] = [];
const plainMs: number[] = [];
let batonTrades = 0;
let plainTrades = 0;
let batonPips = 0;
let plainPips = 0;
let heapAfter = 0;
for (let rep = 0; rep < REPEAT + 1; rep++) {
  // interleaved, the first round a warm-up; each timed from a collected heap, so neither pays for
  // the other's garbage (the plain loop ran 145 or 285 ms depending on it)
  gc();
  let t = performance.now();
  const r = runBacktest(bars, settings);
  const baton = performance.now() - t;
  heapAfter = Math.max(heapAfter, process.memoryUsage().heapUsed);
  gc();
  t = performance.now();
  const p = plainDayOrb(bars, settings);
  const plain = performance.now() - t;
  batonTrades = r.trades;
  batonPips = r.total_pips;
  plainTrades = p.trades;
  plainPips = p.totalPips;
  if (rep > 0) {
    batonMs.push(baton);
    plainMs.push(plain);
  }
  log(
    `run ${rep}${rep === 0 ? ' (warm-up)' : ''}: baton ${baton.toFixed(1)} ms (${r.trades} trades), plain loop ${plain.toFixed(1)} ms (${p.trades} trades)`,
  );
}
if (
  batonTrades !== plainTrades ||
  Math.abs(batonPips - plainPips) > 1e-6 * Math.max(1, Math.abs(plainPips))
) {
  throw new Error(
    `the plain loop is not the same work: ${plainTrades} trades / ${plainPips} pips against Baton's ${batonTrades} / ${batonPips}`,
  );
}
const rssAfter = process.memoryUsage().rss;
const barsPerS = N / (median(batonMs) / 1000);
const vsPlain = median(batonMs) / median(plainMs);
log(
  `one run over ${N} bars: ${median(batonMs).toFixed(1)} ms (${Math.round(barsPerS)} bars/s), plain loop ${median(plainMs).toFixed(1)} ms; ratio ${vsPlain.toFixed(2)}; ${batonTrades} trades in both`,
);
log(
  `memory: rss ${(rssBefore / 2 ** 20).toFixed(0)} → ${(rssAfter / 2 ** 20).toFixed(0)} MiB (bars ${((N * 8 * 8) / 2 ** 20).toFixed(0)} MiB of columns), heap peak ${(heapAfter / 2 ** 20).toFixed(0)} MiB`,
);

// CSV loading of the same bars, for scale.
const csv = ['timestamp,symbol,tf,o,h,l,c,v,spread'];
for (let i = 0; i < Math.min(N, 200_000); i++)
  csv.push(`${bars.ts[i]},USDJPY,5m,${bars.o[i]},${bars.h[i]},${bars.l[i]},${bars.c[i]},0,0.005`);
const csvText = csv.join('\n');
const t = performance.now();
const parsed = parseBars(csvText, { symbol: 'USDJPY', timeframe: '5m' });
const csvRowsPerS = parsed.bars.length / ((performance.now() - t) / 1000);
log(`CSV loading: ${Math.round(csvRowsPerS)} rows/s (${parsed.bars.length} rows)`);

// 2. The sweep on 1 and 2 worker processes.
const base = process.env.BATON_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const dbs = new BenchDatabases(base, log);
const grid = { or_n: [4, 5, 6, 7], k_tp: [1.0, 1.25, 1.5, 2.0], k_sl: [0.6, 0.8] };
const blobDir = mkdtempSync(join(tmpdir(), 'baton-bench-blobs-'));
const workerScript = fileURLToPath(new URL('./_backtest-worker.ts', import.meta.url));

async function startWorker(url: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, ['--import', 'tsx', workerScript, url], {
    env: { ...process.env, BATON_BLOB_DIR: blobDir },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  await new Promise<void>((resolve, reject) => {
    p.once('exit', (code) => reject(new Error(`bench worker exited with ${code}`)));
    createInterface({ input: p.stdout! }).on('line', (line) => line === 'ready' && resolve());
  });
  return p;
}

const sweepInput = (g: Record<string, number[]>) => ({
  manifest: MANIFEST,
  csv: SAMPLE,
  grid: g,
  concurrency: 8,
});

/**
 * One timed sweep on `workers` processes, after an untimed 64-point sweep that warms them up (a
 * worker is a long-lived process). Timed from the database's own clock: the sweep's creation to its
 * end, so the client's polling for the result is not counted.
 */
async function sweepOnce(workers: number): Promise<number> {
  const name = await dbs.create('backtest');
  const url = dbs.urlFor(name);
  const store = await Store.open({ databaseUrl: url, logger: createLogger('warn') });
  const procs: ChildProcess[] = [];
  try {
    await store.migrate();
    for (let w = 0; w < workers; w++) procs.push(await startWorker(url));
    const client = new Client(store);
    const warm = await client.start(backtestSweep, sweepInput({ ...grid, k_sl: [0.6, 0.8, 1.0, 1.2] }));
    await client.result(warm.id, { timeout: '10m' });
    const { id } = await client.start(backtestSweep, sweepInput(grid));
    const { points } = await client.result<{ points: SweepPoint[] }>(id, { timeout: '10m' });
    if (points.length !== 32 || points.some((p) => p.error !== undefined)) {
      throw new Error(
        `the sweep did not run its 32 points: ${JSON.stringify(points.filter((p) => p.error))}`,
      );
    }
    const e = await client.get(id);
    return e.finishedAt!.getTime() - e.createdAt.getTime();
  } finally {
    for (const p of procs) p.kill('SIGTERM');
    await Promise.all(
      procs.map((p) => new Promise((r) => (p.exitCode !== null ? r(null) : p.once('exit', r)))),
    );
    await store.close();
    await dbs.drop(name);
  }
}

const sweep1: number[] = [];
const sweep2: number[] = [];
const sweepReps = Math.max(1, Math.min(REPEAT, 3));
for (let rep = 0; rep < sweepReps; rep++) {
  sweep1.push(await sweepOnce(1));
  sweep2.push(await sweepOnce(2));
  log(`sweep ${rep}: 1 worker ${sweep1.at(-1)!.toFixed(0)} ms, 2 workers ${sweep2.at(-1)!.toFixed(0)} ms`);
}
await dbs.admin.end();
const speedup = median(sweep1) / median(sweep2);
log(
  `32-point sweep: 1 worker ${median(sweep1).toFixed(0)} ms, 2 workers ${median(sweep2).toFixed(0)} ms; speed-up ${speedup.toFixed(2)}`,
);

// 3. Tracing's cost: the jobs bench with and without an OpenTelemetry SDK, in its own process.
log('tracing overhead: the jobs bench with and without an OpenTelemetry SDK …');
const jobsOut = await new Promise<string>((resolve, reject) => {
  const p = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./run.ts', import.meta.url)),
      'jobs',
      '--systems',
      'baton,baton_traced',
      '--modes',
      'high-throughput',
      '--repeat',
      String(Math.max(3, REPEAT)),
      '--latency',
      '100',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let out = '';
  p.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  p.on('exit', (code) =>
    code === 0 ? resolve(out) : reject(new Error(`the jobs bench exited with ${code}`)),
  );
});
const jobs = JSON.parse(jobsOut.trim().split('\n').at(-1)!) as {
  baton_jobs_per_s: number;
  baton_traced_jobs_per_s: number;
  tracing_overhead: number;
};
log(
  `jobs/s: ${jobs.baton_jobs_per_s} without tracing, ${jobs.baton_traced_jobs_per_s} with; overhead ${(jobs.tracing_overhead * 100).toFixed(1)}%`,
);

// The figures behind the result, then the last line with exactly the keys.
console.log(
  JSON.stringify({
    suite: 'backtest',
    bars: N,
    repeat: REPEAT,
    baton_ms: round(median(batonMs)),
    plain_loop_ms: round(median(plainMs)),
    trades: batonTrades,
    rss_mb: Math.round(rssAfter / 2 ** 20),
    csv_rows_per_s: Math.round(csvRowsPerS),
    sweep_1_worker_ms: Math.round(median(sweep1)),
    sweep_2_workers_ms: Math.round(median(sweep2)),
    jobs_per_s_untraced: jobs.baton_jobs_per_s,
    jobs_per_s_traced: jobs.baton_traced_jobs_per_s,
    ...load.end(),
  }),
);
console.log(
  JSON.stringify({
    suite: 'backtest',
    bars_per_s: Math.round(barsPerS),
    vs_plain_loop: round(vsPlain),
    sweep_speedup_2_workers: round(speedup),
    tracing_overhead: jobs.tracing_overhead,
  }),
);

function round(x: number): number {
  return Math.round(x * 100) / 100;
}
