// Times the dedicated batch loops of src/fast.ts in isolation (no registry, no
// validation) beside bare Float64Array loops, over a seeded 1,000,000-bar random walk.
// Each figure is the median of REPS runs after warm-up, with a forced GC before each.
// Each kernel runs twice: with fresh outputs per call and into buffers allocated once; the
// minor page faults per call show what fresh outputs cost (memory the kernel touches first).
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
/** Median ms per call, and minor page faults per timed call. */
function time(fn: () => Float64Array | Float64Array[]): { ms: number; faults: number } {
  for (let i = 0; i < 5; i++) {
    const r = fn();
    sink += Array.isArray(r) ? r[0][N - 1] : r[N - 1];
  }
  const ts: number[] = [];
  let faults = 0;
  for (let i = 0; i < REPS; i++) {
    gc();
    const f0 = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    const r = fn();
    ts.push(performance.now() - t0);
    faults += process.resourceUsage().minorPageFault - f0;
    sink += Array.isArray(r) ? r[0][N - 1] : r[N - 1];
  }
  return { ms: median(ts), faults: faults / REPS };
}

type Kernel = (out?: Float64Array[]) => Float64Array | Float64Array[];
const cases = (f: Fast): Record<string, Kernel> => ({
  sma: (o) => f.smaBatch(close, 20, o?.[0]),
  ema: (o) => f.emaBatch(close, 20, 2 / 21, false, o?.[0]),
  rsi: (o) => f.gainLossBatch(close, 14, false, o?.[0]),
  macd: (o) => f.macdBatch(close, 12, 26, 9, o),
  bbands: (o) => f.bbandsBatch(close, 20, 2, 2, o),
  atr: (o) => f.atrBatch(high, low, close, 14, o?.[0]),
  adx: (o) => f.adxBatch(high, low, close, 14, o),
});
const bare: Record<string, (out?: Float64Array[]) => Float64Array> = {
  sma: (o) => bareSma(close, 20, o?.[0]),
  ema: (o) => bareEma(close, 20, o?.[0]),
};
const buffers = [new Float64Array(N), new Float64Array(N), new Float64Array(N)];
/** "fresh ms (faults per call) | reused ms (faults per call)" */
function both(k: Kernel): string {
  const fresh = time(() => k());
  const reused = time(() => k(buffers));
  const f = (t: { ms: number; faults: number }) => `${fmt(t.ms)} ms (${Math.round(t.faults)} faults)`;
  return `fresh ${f(fresh)} reused ${f(reused)}`;
}

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
  const parts = [`${id.padEnd(7)} current ${both(cur[id])}`];
  if (old) parts.push(`alt ${both(old[id])}`);
  if (bare[id]) parts.push(`bare ${both(bare[id])}`);
  console.log(parts.join(' | '));
}
console.log(
  `load after: ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')}${sink === 0.5 ? '' : ''}`,
);
