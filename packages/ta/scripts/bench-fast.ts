// Times the dedicated batch loops of src/fast.ts in isolation (no registry, no
// validation) beside bare Float64Array loops, over a seeded 1,000,000-bar random walk.
// Each figure is the median of REPS runs after warm-up, with a forced GC before each.
//   node --expose-gc --import tsx packages/ta/scripts/bench-fast.ts [sma ema rsi macd bbands atr adx]
// BENCH_BARS / BENCH_REPS override the size and run count; FAST_MODULE points at
// another copy of fast.ts to compare against (absolute path).
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import * as current from '../src/fast.js';
import { bareEma, bareSma } from './bare-loops.js';

type Fast = typeof current;
const alt = process.env.FAST_MODULE
  ? ((await import(pathToFileURL(process.env.FAST_MODULE).href)) as Fast)
  : undefined;

const N = Number(process.env.BENCH_BARS ?? 1_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 15);
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

let seed = 12345;
const rnd = (): number => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const close = new Float64Array(N);
const high = new Float64Array(N);
const low = new Float64Array(N);
let px = 100;
for (let i = 0; i < N; i++) {
  const o = px;
  px = px * Math.exp(0.01 * (rnd() - 0.5));
  close[i] = px;
  high[i] = Math.max(o, px) * (1 + rnd() * 0.004);
  low[i] = Math.min(o, px) * (1 - rnd() * 0.004);
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[s.length >> 1];
};
let sink = 0;
function time(fn: () => Float64Array | Float64Array[]): number {
  for (let i = 0; i < 5; i++) {
    const r = fn();
    sink += Array.isArray(r) ? r[0][N - 1] : r[N - 1];
  }
  const ts: number[] = [];
  for (let i = 0; i < REPS; i++) {
    gc();
    const t0 = performance.now();
    const r = fn();
    ts.push(performance.now() - t0);
    sink += Array.isArray(r) ? r[0][N - 1] : r[N - 1];
  }
  return median(ts);
}

const cases = (f: Fast): Record<string, () => Float64Array | Float64Array[]> => ({
  sma: () => f.smaBatch(close, 20),
  ema: () => f.emaBatch(close, 20, 2 / 21, false),
  rsi: () => f.gainLossBatch(close, 14, false),
  macd: () => f.macdBatch(close, 12, 26, 9),
  bbands: () => f.bbandsBatch(close, 20, 2, 2),
  atr: () => f.atrBatch(high, low, close, 14),
  adx: () => f.adxBatch(high, low, close, 14),
});
const bare: Record<string, () => Float64Array> = {
  sma: () => bareSma(close, 20),
  ema: () => bareEma(close, 20),
};

const only = process.argv.slice(2);
const fmt = (x: number): string => x.toFixed(2).padStart(7);
console.log(
  `fast kernels: ${N} bars, median of ${REPS}, node ${process.version}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}`,
);
const cur = cases(current);
const old = alt ? cases(alt) : undefined;
for (const id of Object.keys(cur)) {
  if (only.length && !only.includes(id)) continue;
  const parts = [`${id.padEnd(7)} current ${fmt(time(cur[id]))} ms`];
  if (old) parts.push(`alt ${fmt(time(old[id]))} ms`);
  if (bare[id]) parts.push(`bare ${fmt(time(bare[id]))} ms`);
  console.log(parts.join(' | '));
}
console.log(
  `load after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}${sink === 0.5 ? '' : ''}`,
);
