/**
 * Generates the TA-Lib golden files used by test/parity.test.ts:
 *   node --import tsx packages/ta/scripts/gen-golden.ts
 *
 * Reads TA-Lib through the `talib` node binding (dev dependency; TA-Lib C built
 * from its bundled source), with every unstable period at 0 and default MA types.
 * Datasets: TA-Lib's own 252-bar daily reference series (ta_regtest test_data.c,
 * kept in test/golden/ref252-input.json) and a seeded 10,000-bar random walk.
 * Tests read the JSON only; talib is not needed at test time.
 */
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface TalibResult {
  begIndex: number;
  nbElement: number;
  result: Record<string, number[]>;
  error?: string;
}
interface Talib {
  version: string;
  execute(args: Record<string, unknown>): TalibResult;
  setUnstablePeriod(id: number, period: number): void;
  functionUnstIds: Record<string, number>;
}

const require = createRequire(import.meta.url);
const talib = require('talib') as Talib;
const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', 'test', 'golden');

/** OHLCV input columns. */
export interface Ohlcv {
  open: number[];
  high: number[];
  low: number[];
  close: number[];
  volume: number[];
}

/** mulberry32: small deterministic PRNG. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Seeded geometric random walk with plausible OHLCV bars, rounded to 4 decimals. */
function randomWalk(n: number, seed: number): Ohlcv {
  const r = prng(seed);
  const gauss = (): number => Math.sqrt(-2 * Math.log(1 - r())) * Math.cos(2 * Math.PI * r());
  const round = (x: number): number => Math.round(x * 1e4) / 1e4;
  const d: Ohlcv = { open: [], high: [], low: [], close: [], volume: [] };
  let close = 100;
  for (let i = 0; i < n; i++) {
    const open = close;
    close = round(close * Math.exp(0.01 * gauss()));
    const hi = round(Math.max(open, close) * (1 + Math.abs(gauss()) * 0.004));
    const lo = round(Math.min(open, close) * (1 - Math.abs(gauss()) * 0.004));
    d.open.push(open);
    d.close.push(close);
    d.high.push(hi);
    d.low.push(lo);
    d.volume.push(1000 + Math.floor(r() * 100000));
  }
  return d;
}

/** One golden case: our indicator call and TA-Lib's function that defines it. */
interface Case {
  id: string;
  params: Record<string, number>;
  /** TA-Lib function and its optional inputs. */
  fn: string;
  opt: Record<string, number>;
  /** Our output name → TA-Lib output name. */
  outputs: Record<string, string>;
  /** Subtract the window start from index outputs (MAXINDEX → position in window). */
  windowIndex?: number;
}

const c = (
  id: string,
  params: Record<string, number>,
  fn: string,
  opt: Record<string, number>,
  outputs: Record<string, string> = { value: 'outReal' },
  windowIndex?: number,
): Case => ({ id, params, fn, opt, outputs, windowIndex });

const CASES: Case[] = [
  c('sma', {}, 'SMA', { optInTimePeriod: 30 }),
  c('sma', { period: 14 }, 'SMA', { optInTimePeriod: 14 }),
  c('rolling_mean', { period: 20 }, 'SMA', { optInTimePeriod: 20 }),
  c('ema', {}, 'EMA', { optInTimePeriod: 30 }),
  c('ema', { period: 12 }, 'EMA', { optInTimePeriod: 12 }),
  c('rolling_ema', { period: 9 }, 'EMA', { optInTimePeriod: 9 }),
  c('wma', {}, 'WMA', { optInTimePeriod: 30 }),
  c('wma', { period: 10 }, 'WMA', { optInTimePeriod: 10 }),
  c('rolling_sum', {}, 'SUM', { optInTimePeriod: 30 }),
  c('rolling_std', {}, 'STDDEV', { optInTimePeriod: 5, optInNbDev: 1 }),
  c('rolling_std', { period: 20, nbdev: 2 }, 'STDDEV', { optInTimePeriod: 20, optInNbDev: 2 }),
  c('rolling_max', {}, 'MAX', { optInTimePeriod: 30 }),
  c('rolling_min', { period: 10 }, 'MIN', { optInTimePeriod: 10 }),
  c('rolling_argmax', {}, 'MAXINDEX', { optInTimePeriod: 30 }, { value: 'outInteger' }, 30),
  c('rolling_argmin', { period: 10 }, 'MININDEX', { optInTimePeriod: 10 }, { value: 'outInteger' }, 10),
  c('diff', { period: 10 }, 'MOM', { optInTimePeriod: 10 }),
  c('true_range', {}, 'TRANGE', {}),
  c('typical_price', {}, 'TYPPRICE', {}),
  c('rsi', {}, 'RSI', { optInTimePeriod: 14 }),
  c('rsi', { period: 5 }, 'RSI', { optInTimePeriod: 5 }),
  c('cmo', {}, 'CMO', { optInTimePeriod: 14 }),
  c(
    'macd',
    {},
    'MACD',
    { optInFastPeriod: 12, optInSlowPeriod: 26, optInSignalPeriod: 9 },
    { macd: 'outMACD', signal: 'outMACDSignal', histogram: 'outMACDHist' },
  ),
  c(
    'macd',
    { fast_period: 5, slow_period: 35, signal_period: 5 },
    'MACD',
    { optInFastPeriod: 5, optInSlowPeriod: 35, optInSignalPeriod: 5 },
    { macd: 'outMACD', signal: 'outMACDSignal', histogram: 'outMACDHist' },
  ),
  c('adx', {}, 'ADX', { optInTimePeriod: 14 }, { adx: 'outReal' }),
  c('adx', {}, 'PLUS_DI', { optInTimePeriod: 14 }, { plus_di: 'outReal' }),
  c('adx', {}, 'MINUS_DI', { optInTimePeriod: 14 }, { minus_di: 'outReal' }),
  c('adx', { period: 5 }, 'ADX', { optInTimePeriod: 5 }, { adx: 'outReal' }),
  c('psar', {}, 'SAR', { optInAcceleration: 0.02, optInMaximum: 0.2 }),
  c(
    'stochastic',
    {},
    'STOCH',
    {
      optInFastK_Period: 5,
      optInSlowK_Period: 3,
      optInSlowK_MAType: 0,
      optInSlowD_Period: 3,
      optInSlowD_MAType: 0,
    },
    { k: 'outSlowK', d: 'outSlowD' },
  ),
  c(
    'stochastic',
    { fastk_period: 14, slowk_period: 3, slowd_period: 3 },
    'STOCH',
    {
      optInFastK_Period: 14,
      optInSlowK_Period: 3,
      optInSlowK_MAType: 0,
      optInSlowD_Period: 3,
      optInSlowD_MAType: 0,
    },
    { k: 'outSlowK', d: 'outSlowD' },
  ),
  c('cci', {}, 'CCI', { optInTimePeriod: 14 }),
  c('roc', {}, 'ROC', { optInTimePeriod: 10 }),
  c('williams_r', {}, 'WILLR', { optInTimePeriod: 14 }),
  c('mfi', {}, 'MFI', { optInTimePeriod: 14 }),
  c('atr', {}, 'ATR', { optInTimePeriod: 14 }),
  c('atr', { period: 5 }, 'ATR', { optInTimePeriod: 5 }),
  c(
    'bbands',
    {},
    'BBANDS',
    { optInTimePeriod: 5, optInNbDevUp: 2, optInNbDevDn: 2, optInMAType: 0 },
    { upper: 'outRealUpperBand', middle: 'outRealMiddleBand', lower: 'outRealLowerBand' },
  ),
  c(
    'bbands',
    { period: 20, nbdevup: 2, nbdevdn: 1.5 },
    'BBANDS',
    { optInTimePeriod: 20, optInNbDevUp: 2, optInNbDevDn: 1.5, optInMAType: 0 },
    { upper: 'outRealUpperBand', middle: 'outRealMiddleBand', lower: 'outRealLowerBand' },
  ),
  c('obv', {}, 'OBV', {}),
];

/** TA-Lib inputs each function reads. */
const TALIB_INPUTS: Record<string, string[]> = {
  TRANGE: ['high', 'low', 'close'],
  TYPPRICE: ['high', 'low', 'close'],
  ADX: ['high', 'low', 'close'],
  PLUS_DI: ['high', 'low', 'close'],
  MINUS_DI: ['high', 'low', 'close'],
  SAR: ['high', 'low'],
  STOCH: ['high', 'low', 'close'],
  CCI: ['high', 'low', 'close'],
  WILLR: ['high', 'low', 'close'],
  MFI: ['high', 'low', 'close', 'volume'],
  ATR: ['high', 'low', 'close'],
  OBV: ['close', 'volume'],
};

function run(d: Ohlcv, k: Case): Record<string, (number | null)[]> {
  const n = d.close.length;
  const args: Record<string, unknown> = { name: k.fn, startIdx: 0, endIdx: n - 1, ...k.opt };
  const ins = TALIB_INPUTS[k.fn];
  if (ins) for (const name of ins) args[name] = d[name as keyof Ohlcv];
  else args.inReal = d.close;
  if (k.fn === 'OBV') args.inReal = d.close;
  const r = talib.execute(args);
  if (r.error) throw new Error(`${k.fn}: ${r.error}`);
  const out: Record<string, (number | null)[]> = {};
  for (const [ours, theirs] of Object.entries(k.outputs)) {
    const vals = r.result[theirs];
    if (!vals) throw new Error(`${k.fn}: no output ${theirs} (has ${Object.keys(r.result).join(', ')})`);
    const full: (number | null)[] = new Array<number | null>(n).fill(null);
    for (let j = 0; j < r.nbElement; j++) {
      const i = r.begIndex + j;
      full[i] = k.windowIndex ? vals[j] - (i - k.windowIndex + 1) : vals[j];
    }
    out[ours] = full;
  }
  return out;
}

function golden(name: string, source: string, d: Ohlcv, all: boolean): void {
  // The long walk keeps default parameters only, to keep the files small.
  const cases = CASES.filter((k) => all || Object.keys(k.params).length === 0).map((k) => ({
    id: k.id,
    params: k.params,
    talib: k.fn,
    talibParams: k.opt,
    outputs: run(d, k),
  }));
  const file = join(outDir, `${name}.json`);
  writeFileSync(
    file,
    JSON.stringify({
      talibVersion: talib.version,
      taLibC: '0.6 (bundled with the talib binding)',
      source,
      input: d,
      cases,
    }) + '\n',
  );
  console.log(`wrote ${file}: ${cases.length} cases over ${d.close.length} bars`);
}

for (const id of Object.values(talib.functionUnstIds))
  if (id >= 0 && id < talib.functionUnstIds.TA_FUNC_UNST_ALL) talib.setUnstablePeriod(id, 0);

const ref = JSON.parse(readFileSync(join(outDir, 'ref252-input.json'), 'utf8')) as Ohlcv & { source: string };
golden(
  'ref252',
  ref.source,
  { open: ref.open, high: ref.high, low: ref.low, close: ref.close, volume: ref.volume },
  true,
);
golden(
  'walk10k',
  'seeded random walk: mulberry32(20240601), 10,000 bars',
  randomWalk(10_000, 20240601),
  false,
);
