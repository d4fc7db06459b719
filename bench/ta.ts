// `npm run bench -- ta`: Baton's batch kernels beside talib (TA-Lib C through its node
// binding), technicalindicators and trading-signals over one 1,000,000-bar series, plus
// bare Float64Array loops for SMA and EMA as the single-pass reference. Each timing is
// the median of several runs after warm-up. Last line: one JSON object.
// BENCH_BARS and BENCH_REPS override the size and the number of timed runs.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as TI from 'technicalindicators';
import * as TS from 'trading-signals';
import { compute } from '../packages/ta/src/index.js';

const require = createRequire(import.meta.url);
const talib = require('talib') as {
  execute(a: Record<string, unknown>): { result: Record<string, number[]> };
};

// Collect garbage before every timed run so one library's garbage is not billed to the next.
setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

const N = Number(process.env.BENCH_BARS ?? 1_000_000);
const REPS = Number(process.env.BENCH_REPS ?? 11);
const PEER_REPS = Math.max(1, Math.min(REPS, 3));

// Seeded random walk (mulberry32), identical on every run.
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
const closeA = Array.from(close);
const highA = Array.from(high);
const lowA = Array.from(low);
const candles = closeA.map((c, i) => ({ high: highA[i], low: lowA[i], close: c }));

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

let sink = 0;
function time(fn: () => unknown, reps: number, warm: number): number {
  for (let i = 0; i < warm; i++) keep(fn());
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    gc();
    const t0 = performance.now();
    const r = fn();
    ts.push(performance.now() - t0);
    keep(r);
  }
  return median(ts);
}
function keep(r: unknown): void {
  if (Array.isArray(r) || r instanceof Float64Array) sink += r.length;
  else if (r && typeof r === 'object') sink += Object.keys(r).length;
}

function tsLoop<I>(make: () => { add(x: I): unknown }, inputs: I[]): unknown[] {
  const ind = make();
  const out = new Array<unknown>(inputs.length);
  for (let i = 0; i < inputs.length; i++) out[i] = ind.add(inputs[i]);
  return out;
}

/** Bare single-pass loops: the floor for a one-pass kernel (no NaN handling, no validation). */
function bareSma(x: Float64Array, p: number): Float64Array {
  const out = new Float64Array(x.length);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    s += x[i];
    if (i >= p - 1) {
      out[i] = s / p;
      s -= x[i - p + 1];
    } else out[i] = NaN;
  }
  return out;
}
function bareEma(x: Float64Array, p: number): Float64Array {
  const out = new Float64Array(x.length);
  const k = 2 / (p + 1);
  let s = 0;
  for (let i = 0; i < p; i++) {
    s += x[i];
    out[i] = NaN;
  }
  let prev = s / p;
  out[p - 1] = prev;
  for (let i = p; i < x.length; i++) out[i] = prev = (x[i] - prev) * k + prev;
  return out;
}

interface Case {
  baton: () => unknown;
  talib: () => unknown;
  technicalindicators: () => unknown;
  trading_signals: () => unknown;
  bare?: () => unknown;
}

const cases: Record<string, Case> = {
  sma: {
    baton: () => compute('sma', [close], { period: 20 }),
    talib: () =>
      talib.execute({ name: 'SMA', startIdx: 0, endIdx: N - 1, inReal: closeA, optInTimePeriod: 20 }),
    technicalindicators: () => TI.SMA.calculate({ period: 20, values: closeA }),
    trading_signals: () => tsLoop(() => new TS.SMA(20), closeA),
    bare: () => bareSma(close, 20),
  },
  ema: {
    baton: () => compute('ema', [close], { period: 20 }),
    talib: () =>
      talib.execute({ name: 'EMA', startIdx: 0, endIdx: N - 1, inReal: closeA, optInTimePeriod: 20 }),
    technicalindicators: () => TI.EMA.calculate({ period: 20, values: closeA }),
    trading_signals: () => tsLoop(() => new TS.EMA(20), closeA),
    bare: () => bareEma(close, 20),
  },
  rsi: {
    baton: () => compute('rsi', [close], { period: 14 }),
    talib: () =>
      talib.execute({ name: 'RSI', startIdx: 0, endIdx: N - 1, inReal: closeA, optInTimePeriod: 14 }),
    technicalindicators: () => TI.RSI.calculate({ period: 14, values: closeA }),
    trading_signals: () => tsLoop(() => new TS.RSI(14), closeA),
  },
  macd: {
    baton: () => compute('macd', [close], { fast_period: 12, slow_period: 26, signal_period: 9 }),
    talib: () =>
      talib.execute({
        name: 'MACD',
        startIdx: 0,
        endIdx: N - 1,
        inReal: closeA,
        optInFastPeriod: 12,
        optInSlowPeriod: 26,
        optInSignalPeriod: 9,
      }),
    technicalindicators: () =>
      TI.MACD.calculate({
        values: closeA,
        fastPeriod: 12,
        slowPeriod: 26,
        signalPeriod: 9,
        SimpleMAOscillator: false,
        SimpleMASignal: false,
      }),
    trading_signals: () => tsLoop(() => new TS.MACD(new TS.EMA(12), new TS.EMA(26), new TS.EMA(9)), closeA),
  },
  bbands: {
    baton: () => compute('bbands', [close], { period: 20, nbdevup: 2, nbdevdn: 2 }),
    talib: () =>
      talib.execute({
        name: 'BBANDS',
        startIdx: 0,
        endIdx: N - 1,
        inReal: closeA,
        optInTimePeriod: 20,
        optInNbDevUp: 2,
        optInNbDevDn: 2,
        optInMAType: 0,
      }),
    technicalindicators: () => TI.BollingerBands.calculate({ period: 20, values: closeA, stdDev: 2 }),
    trading_signals: () => tsLoop(() => new TS.BollingerBands(20, 2), closeA),
  },
  atr: {
    baton: () => compute('atr', [high, low, close], { period: 14 }),
    talib: () =>
      talib.execute({
        name: 'ATR',
        startIdx: 0,
        endIdx: N - 1,
        high: highA,
        low: lowA,
        close: closeA,
        optInTimePeriod: 14,
      }),
    technicalindicators: () => TI.ATR.calculate({ high: highA, low: lowA, close: closeA, period: 14 }),
    trading_signals: () => tsLoop(() => new TS.ATR(14), candles),
  },
  adx: {
    baton: () => compute('adx', [high, low, close], { period: 14 }),
    talib: () =>
      talib.execute({
        name: 'ADX',
        startIdx: 0,
        endIdx: N - 1,
        high: highA,
        low: lowA,
        close: closeA,
        optInTimePeriod: 14,
      }),
    technicalindicators: () => TI.ADX.calculate({ high: highA, low: lowA, close: closeA, period: 14 }),
    trading_signals: () => tsLoop(() => new TS.ADX(14), candles),
  },
};

const round = (x: number): number => Math.round(x * 100) / 100;
console.log(
  `ta bench: ${N.toLocaleString('en')} bars, median of ${REPS} runs (peers: ${PEER_REPS}), node ${process.version}`,
);
// Baton and the bare loops first, on a clean heap; then the peers (their inputs are plain arrays built up front).
const batonMs: Record<string, number> = {};
const bareMs: Record<string, number> = {};
for (const [id, c] of Object.entries(cases)) {
  batonMs[id] = time(c.baton, REPS, 3);
  if (c.bare) bareMs[id] = time(c.bare, REPS, 3);
}
const per: Record<string, Record<string, number | string>> = {};
let minSpeedup = Infinity;
for (const [id, c] of Object.entries(cases)) {
  const baton = batonMs[id];
  const peers = {
    talib: time(c.talib, PEER_REPS, 1),
    technicalindicators: time(c.technicalindicators, PEER_REPS, 1),
    trading_signals: time(c.trading_signals, PEER_REPS, 1),
  };
  const [fastestPeer, fastestMs] = Object.entries(peers).sort((a, b) => a[1] - b[1])[0];
  const speedup = fastestMs / baton;
  minSpeedup = Math.min(minSpeedup, speedup);
  const row: Record<string, number | string> = {
    baton_ms: round(baton),
    talib_ms: round(peers.talib),
    technicalindicators_ms: round(peers.technicalindicators),
    trading_signals_ms: round(peers.trading_signals),
    fastest_peer: fastestPeer,
    speedup: round(speedup),
  };
  if (c.bare) {
    row.bare_loop_ms = round(bareMs[id]);
    row.vs_bare_loop = round(baton / bareMs[id]);
  }
  per[id] = row;
  console.log(
    `${id.padEnd(7)} baton ${row.baton_ms} ms | talib ${row.talib_ms} | technicalindicators ${row.technicalindicators_ms} | trading-signals ${row.trading_signals_ms} | ${round(speedup)}x vs ${fastestPeer}${c.bare ? ` | bare loop ${row.bare_loop_ms} ms (${row.vs_bare_loop}x)` : ''}`,
  );
}
if (sink < 0) console.log(sink);
console.log(
  JSON.stringify({ suite: 'ta', min_speedup_vs_fastest_peer: round(minSpeedup), per_indicator: per }),
);
