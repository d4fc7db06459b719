// `npm run bench -- ta`: Baton's batch kernels beside talib (TA-Lib C through its node
// binding), technicalindicators and trading-signals over one 1,000,000-bar series, plus
// bare Float64Array loops for SMA and EMA as the single-pass reference. Each timing is
// the median of several runs after warm-up, with a forced GC before each run. Each
// library's inputs (typed arrays for Baton, plain arrays or candle objects for the peers,
// all built from the same series) exist only while that library is timed, so no library
// pays for marking another's inputs. Every peer's last value is checked against Baton's.
// Baton is timed twice: with fresh outputs per call, and writing into output buffers allocated
// once (`{ out }`), which is how a caller computing many series calls it; the JSON's baton_ms and
// speed-ups are the latter, baton_fresh_ms the former.
// Last line: one JSON object. BENCH_BARS and BENCH_REPS override the size and run count.
import { createRequire } from 'node:module';
import { performance } from 'node:perf_hooks';
import * as TI from 'technicalindicators';
import * as TS from 'trading-signals';
import { compute, getIndicator } from '../packages/ta/src/index.js';
import { bareEma, bareSma } from '../packages/ta/scripts/bare-loops.js';
import { watchLoad } from './_load.js';
import { gc } from './_gc.js';

const require = createRequire(import.meta.url);
const talib = require('talib') as {
  execute(a: Record<string, unknown>): { result: Record<string, number[]> };
};

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
// Peers' input forms, built from the same series only while a peer runs (see `peerInputs`).
interface PeerInputs {
  closeA: number[];
  highA: number[];
  lowA: number[];
  candles: { high: number; low: number; close: number }[];
}
let peer: PeerInputs | undefined;
function peerInputs(): PeerInputs {
  const closeA = Array.from(close);
  const highA = Array.from(high);
  const lowA = Array.from(low);
  const candles = closeA.map((c, i) => ({ high: highA[i], low: lowA[i], close: c }));
  return { closeA, highA, lowA, candles };
}
const P = (): PeerInputs => peer!;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

let sink = 0;
function time(fn: () => unknown, reps: number, warm: number): number {
  for (let i = 0; i < warm; i++) keep(fn());
  const ts: number[] = [];
  for (let i = 0; i < reps; i++) {
    // so that one library's garbage is not billed to the next
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

/** trading-signals' batch form: `updates(inputs)` (one `update` per bar, results in an array). */
function tsUpdates<I>(
  make: () => { updates(xs: I[], replace?: boolean): unknown[] },
  inputs: I[],
): unknown[] {
  return make().updates(inputs, false);
}

/** Bare single-pass loops: the floor for a one-pass kernel (no NaN handling, no validation). */

interface Case {
  /** Baton's call: timed with fresh outputs, and writing into buffers reused from run to run. */
  baton: { id: string; ins: Float64Array[]; params: Record<string, number> };
  talib: () => unknown;
  technicalindicators: () => unknown;
  trading_signals: () => unknown;
  /** A bare loop writing into a reused buffer. */
  bare?: (out: Float64Array) => unknown;
  /** Baton output and peer field compared on the last bar (talib, technicalindicators, trading-signals). */
  check: { baton: string; talib: string; ti?: string; ts?: string };
}

/** The last bar's value of a result, for the sanity check. */
function lastValue(r: unknown, field?: string): number {
  let v: unknown = r;
  if (Array.isArray(v)) v = v[v.length - 1];
  else if (v instanceof Float64Array) v = v[v.length - 1];
  if (field !== undefined && v !== null && typeof v === 'object') {
    v = (v as Record<string, unknown>)[field];
    if (Array.isArray(v) || v instanceof Float64Array) v = v[v.length - 1];
  }
  return typeof v === 'number' ? v : Number(v);
}

const cases: Record<string, Case> = {
  sma: {
    baton: { id: 'sma', ins: [close], params: { period: 20 } },
    talib: () =>
      talib.execute({ name: 'SMA', startIdx: 0, endIdx: N - 1, inReal: P().closeA, optInTimePeriod: 20 }),
    technicalindicators: () => TI.SMA.calculate({ period: 20, values: P().closeA }),
    trading_signals: () => tsUpdates(() => new TS.SMA(20), P().closeA),
    bare: (out) => bareSma(close, 20, out),
    check: { baton: 'value', talib: 'outReal' },
  },
  ema: {
    baton: { id: 'ema', ins: [close], params: { period: 20 } },
    talib: () =>
      talib.execute({ name: 'EMA', startIdx: 0, endIdx: N - 1, inReal: P().closeA, optInTimePeriod: 20 }),
    technicalindicators: () => TI.EMA.calculate({ period: 20, values: P().closeA }),
    trading_signals: () => tsUpdates(() => new TS.EMA(20), P().closeA),
    bare: (out) => bareEma(close, 20, out),
    check: { baton: 'value', talib: 'outReal' },
  },
  rsi: {
    baton: { id: 'rsi', ins: [close], params: { period: 14 } },
    talib: () =>
      talib.execute({ name: 'RSI', startIdx: 0, endIdx: N - 1, inReal: P().closeA, optInTimePeriod: 14 }),
    technicalindicators: () => TI.RSI.calculate({ period: 14, values: P().closeA }),
    trading_signals: () => tsUpdates(() => new TS.RSI(14), P().closeA),
    check: { baton: 'value', talib: 'outReal' },
  },
  macd: {
    baton: { id: 'macd', ins: [close], params: { fast_period: 12, slow_period: 26, signal_period: 9 } },
    talib: () =>
      talib.execute({
        name: 'MACD',
        startIdx: 0,
        endIdx: N - 1,
        inReal: P().closeA,
        optInFastPeriod: 12,
        optInSlowPeriod: 26,
        optInSignalPeriod: 9,
      }),
    technicalindicators: () =>
      TI.MACD.calculate({
        values: P().closeA,
        fastPeriod: 12,
        slowPeriod: 26,
        signalPeriod: 9,
        SimpleMAOscillator: false,
        SimpleMASignal: false,
      }),
    trading_signals: () =>
      tsUpdates(() => new TS.MACD(new TS.EMA(12), new TS.EMA(26), new TS.EMA(9)), P().closeA),
    check: { baton: 'macd', talib: 'outMACD', ti: 'MACD', ts: 'macd' },
  },
  bbands: {
    baton: { id: 'bbands', ins: [close], params: { period: 20, nbdevup: 2, nbdevdn: 2 } },
    talib: () =>
      talib.execute({
        name: 'BBANDS',
        startIdx: 0,
        endIdx: N - 1,
        inReal: P().closeA,
        optInTimePeriod: 20,
        optInNbDevUp: 2,
        optInNbDevDn: 2,
        optInMAType: 0,
      }),
    technicalindicators: () => TI.BollingerBands.calculate({ period: 20, values: P().closeA, stdDev: 2 }),
    trading_signals: () => tsUpdates(() => new TS.BollingerBands(20, 2), P().closeA),
    check: { baton: 'upper', talib: 'outRealUpperBand', ti: 'upper', ts: 'upper' },
  },
  atr: {
    baton: { id: 'atr', ins: [high, low, close], params: { period: 14 } },
    talib: () =>
      talib.execute({
        name: 'ATR',
        startIdx: 0,
        endIdx: N - 1,
        high: P().highA,
        low: P().lowA,
        close: P().closeA,
        optInTimePeriod: 14,
      }),
    technicalindicators: () =>
      TI.ATR.calculate({ high: P().highA, low: P().lowA, close: P().closeA, period: 14 }),
    trading_signals: () => tsUpdates(() => new TS.ATR(14), P().candles),
    check: { baton: 'value', talib: 'outReal' },
  },
  adx: {
    baton: { id: 'adx', ins: [high, low, close], params: { period: 14 } },
    talib: () =>
      talib.execute({
        name: 'ADX',
        startIdx: 0,
        endIdx: N - 1,
        high: P().highA,
        low: P().lowA,
        close: P().closeA,
        optInTimePeriod: 14,
      }),
    technicalindicators: () =>
      TI.ADX.calculate({ high: P().highA, low: P().lowA, close: P().closeA, period: 14 }),
    trading_signals: () => tsUpdates(() => new TS.ADX(14), P().candles),
    check: { baton: 'adx', talib: 'outReal', ti: 'adx' },
  },
};

const round = (x: number): number => Math.round(x * 100) / 100;
const load = watchLoad((msg) => console.log(msg));
console.log(
  `ta bench: ${N.toLocaleString('en')} bars, median of ${REPS} runs (peers: ${PEER_REPS}), node ${process.version}`,
);
// Baton and the bare loops first, with only the typed-array inputs alive. Baton twice: with fresh
// outputs (allocated per call) and into buffers allocated once, as a caller computing many series
// would; the bare loops into a reused buffer too.
const batonMs: Record<string, number> = {};
const batonFreshMs: Record<string, number> = {};
const bareMs: Record<string, number> = {};
const batonLast: Record<string, number> = {};
for (const [id, c] of Object.entries(cases)) {
  const { id: name, ins, params } = c.baton;
  const out = getIndicator(name)!.outputs.map(() => new Float64Array(N));
  batonFreshMs[id] = time(() => compute(name, ins, params), REPS, 3);
  batonMs[id] = time(() => compute(name, ins, params, { out }), REPS, 3);
  batonLast[id] = lastValue(compute(name, ins, params), c.check.baton);
  if (c.bare) {
    const bare = c.bare;
    const buf = new Float64Array(N);
    bareMs[id] = time(() => bare(buf), REPS, 3);
  }
}
// Then each peer, with its own input form built just before and released after.
type PeerName = 'talib' | 'technicalindicators' | 'trading_signals';
const PEERS: PeerName[] = ['talib', 'technicalindicators', 'trading_signals'];
const peerMs: Record<string, Partial<Record<PeerName, number>>> = {};
const mismatches: string[] = [];
for (const name of PEERS) {
  peer = peerInputs();
  for (const [id, c] of Object.entries(cases)) {
    (peerMs[id] ??= {})[name] = time(c[name], PEER_REPS, 1);
    // Sanity check: the peer computed the same indicator (last bar within 1%; seeding
    // differences fade over 1M bars, technicalindicators rounds RSI to 2 decimals).
    const field = name === 'talib' ? c.check.talib : name === 'technicalindicators' ? c.check.ti : c.check.ts;
    const raw = c[name]();
    const got = lastValue(name === 'talib' ? (raw as { result: unknown }).result : raw, field);
    const want = batonLast[id];
    if (!(Math.abs(got - want) <= 0.01 * Math.max(1, Math.abs(want)))) {
      mismatches.push(`${id}/${name}: last value ${got}, Baton ${want}`);
    }
  }
  peer = undefined;
  gc();
}
const per: Record<string, Record<string, number | string>> = {};
let minSpeedup = Infinity;
for (const [id, c] of Object.entries(cases)) {
  const baton = batonMs[id];
  const peers = peerMs[id] as Record<PeerName, number>;
  const [fastestPeer, fastestMs] = Object.entries(peers).sort((a, b) => a[1] - b[1])[0];
  const speedup = fastestMs / baton;
  minSpeedup = Math.min(minSpeedup, speedup);
  const row: Record<string, number | string> = {
    baton_ms: round(baton),
    baton_fresh_ms: round(batonFreshMs[id]),
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
    `${id.padEnd(7)} baton ${row.baton_ms} ms (fresh outputs ${row.baton_fresh_ms}) | talib ${row.talib_ms} | technicalindicators ${row.technicalindicators_ms} | trading-signals ${row.trading_signals_ms} | ${round(speedup)}x vs ${fastestPeer}${c.bare ? ` | bare loop ${row.bare_loop_ms} ms (${row.vs_bare_loop}x)` : ''}`,
  );
}
if (sink < 0) console.log(sink);
for (const m of mismatches) console.log(`sanity check FAILED: ${m}`);
console.log(
  JSON.stringify({
    suite: 'ta',
    min_speedup_vs_fastest_peer: round(minSpeedup),
    ...load.end(),
    sanity_check_failures: mismatches,
    per_indicator: per,
  }),
);
