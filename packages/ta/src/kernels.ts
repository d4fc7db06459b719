/**
 * Typed convenience functions over the registry, e.g. `rsi(close, { period: 14 })`.
 * Single-output kernels return a Float64Array of the input's length (NaN in warm-up);
 * multi-output kernels return an object keyed by output name. Parameter names and
 * defaults are those of the registry metadata (TA-Lib's where TA-Lib defines them).
 */
import { TaError } from './errors.js';
import { getIndicator, suggestName } from './registry.js';

/** Parameters of a kernel call: names as in the registry metadata. */
export type KernelParams = Readonly<Record<string, number | undefined>>;

function lookup(id: string) {
  const ind = getIndicator(id);
  if (!ind) {
    const hint = suggestName(id);
    throw new TaError(
      'E_UNKNOWN_FUNCTION',
      `unknown indicator "${id}"${hint ? `; did you mean "${hint}"?` : ''} (see listIndicators())`,
      { details: { name: id } },
    );
  }
  return ind;
}

/** Runs any registered indicator (by id or alias) and returns its outputs keyed by output name. */
export function compute(
  id: string,
  ins: readonly Float64Array[],
  params: KernelParams = {},
): Record<string, Float64Array> {
  const ind = lookup(id);
  const outs = ind.compute(ins, params);
  const res: Record<string, Float64Array> = {};
  ind.outputs.forEach((name, k) => (res[name] = outs[k]));
  return res;
}

const one =
  (id: string) =>
  (x: Float64Array, p: KernelParams = {}): Float64Array =>
    lookup(id).compute([x], p)[0];
const hlc =
  (id: string) =>
  (high: Float64Array, low: Float64Array, close: Float64Array, p: KernelParams = {}): Float64Array =>
    lookup(id).compute([high, low, close], p)[0];

/** Simple moving average (TA-Lib SMA, default period 30). */
export const sma = one('sma');
/** Exponential moving average (TA-Lib EMA, default period 30, SMA seed; `seed: 1` seeds with the first value). */
export const ema = one('ema');
/** Weighted moving average (TA-Lib WMA, default period 30). */
export const wma = one('wma');
/** Hull moving average (default period 9). */
export const hma = one('hma');
/** Relative strength index (TA-Lib RSI, default period 14). */
export const rsi = one('rsi');
/** Chande momentum oscillator (TA-Lib CMO, default period 14). */
export const cmo = one('cmo');
/** Rate of change in percent (TA-Lib ROC, default period 10). */
export const roc = one('roc');
/** Average true range (TA-Lib ATR, default period 14). */
export const atr = hlc('atr');
/** Commodity channel index (TA-Lib CCI, default period 14). */
export const cci = hlc('cci');
/** Williams' %R (TA-Lib WILLR, default period 14). */
export const williamsR = hlc('williams_r');

/** MACD (TA-Lib MACD, 12/26/9). */
export function macd(
  x: Float64Array,
  p: KernelParams = {},
): { macd: Float64Array; signal: Float64Array; histogram: Float64Array } {
  const [m, s, h] = lookup('macd').compute([x], p);
  return { macd: m, signal: s, histogram: h };
}

/** Bollinger bands (TA-Lib BBANDS, period 5, 2/2 deviations). */
export function bbands(
  x: Float64Array,
  p: KernelParams = {},
): { upper: Float64Array; middle: Float64Array; lower: Float64Array } {
  const [upper, middle, lower] = lookup('bbands').compute([x], p);
  return { upper, middle, lower };
}

/** ADX with +DI and −DI (TA-Lib ADX/PLUS_DI/MINUS_DI, period 14). */
export function adx(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  p: KernelParams = {},
): { adx: Float64Array; plus_di: Float64Array; minus_di: Float64Array } {
  const [a, pdi, mdi] = lookup('adx').compute([high, low, close], p);
  return { adx: a, plus_di: pdi, minus_di: mdi };
}

/** Slow stochastic (TA-Lib STOCH, 5/3/3 with SMA smoothing). */
export function stochastic(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  p: KernelParams = {},
): { k: Float64Array; d: Float64Array } {
  const [k, d] = lookup('stochastic').compute([high, low, close], p);
  return { k, d };
}
