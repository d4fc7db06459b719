/**
 * Typed convenience functions over the registry, e.g. `rsi(close, { period: 14 })`.
 * Single-output kernels return a Float64Array of the input's length (NaN in warm-up);
 * multi-output kernels return an object keyed by output name. Parameter names and
 * defaults are those of the registry metadata (TA-Lib's where TA-Lib defines them).
 */
import { checkOutputs, hasMachine } from './define.js';
import { TaError } from './errors.js';
import type { ComputeOptions } from './indicator.js';
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

/**
 * Runs any registered indicator (by id or alias) and returns its outputs keyed by output name;
 * with `options.out`, written into the caller's buffers.
 */
export function compute(
  id: string,
  ins: readonly Float64Array[],
  params: KernelParams = {},
  options: ComputeOptions = {},
): Record<string, Float64Array> {
  const ind = lookup(id);
  let outs = ind.compute(ins, params, options);
  if (options.out !== undefined && !hasMachine(ind)) {
    // a user-registered indicator may not know the option: its results are copied in
    const out = checkOutputs(ind, ins, options.out, ins[0]?.length ?? 0);
    outs.forEach((o, k) => o !== out[k] && out[k]!.set(o));
    outs = [...out];
  }
  const res: Record<string, Float64Array> = {};
  ind.outputs.forEach((name, k) => (res[name] = outs[k]));
  return res;
}

const one =
  (id: string) =>
  (x: Float64Array, p: KernelParams = {}, options?: ComputeOptions): Float64Array =>
    lookup(id).compute([x], p, options)[0];
const hlc =
  (id: string) =>
  (
    high: Float64Array,
    low: Float64Array,
    close: Float64Array,
    p: KernelParams = {},
    options?: ComputeOptions,
  ): Float64Array =>
    lookup(id).compute([high, low, close], p, options)[0];

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
  options?: ComputeOptions,
): { macd: Float64Array; signal: Float64Array; histogram: Float64Array } {
  const [m, s, h] = lookup('macd').compute([x], p, options);
  return { macd: m, signal: s, histogram: h };
}

/** Bollinger bands (TA-Lib BBANDS, period 5, 2/2 deviations). */
export function bbands(
  x: Float64Array,
  p: KernelParams = {},
  options?: ComputeOptions,
): { upper: Float64Array; middle: Float64Array; lower: Float64Array } {
  const [upper, middle, lower] = lookup('bbands').compute([x], p, options);
  return { upper, middle, lower };
}

/** ADX with +DI and −DI (TA-Lib ADX/PLUS_DI/MINUS_DI, period 14). */
export function adx(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  p: KernelParams = {},
  options?: ComputeOptions,
): { adx: Float64Array; plus_di: Float64Array; minus_di: Float64Array } {
  const [a, pdi, mdi] = lookup('adx').compute([high, low, close], p, options);
  return { adx: a, plus_di: pdi, minus_di: mdi };
}

/** Slow stochastic (TA-Lib STOCH, 5/3/3 with SMA smoothing). */
export function stochastic(
  high: Float64Array,
  low: Float64Array,
  close: Float64Array,
  p: KernelParams = {},
  options?: ComputeOptions,
): { k: Float64Array; d: Float64Array } {
  const [k, d] = lookup('stochastic').compute([high, low, close], p, options);
  return { k, d };
}
