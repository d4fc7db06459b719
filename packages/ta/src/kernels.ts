/**
 * Typed convenience functions over the registry: `sma(close, { period: 20 })`.
 * Single-output kernels return a Float64Array; multi-output ones return an object
 * keyed by output name.
 */
import { TaError } from './errors.js';
import { getIndicator } from './registry.js';

/** Parameters of a kernel call: names as in the registry metadata. */
export type KernelParams = Readonly<Record<string, number | undefined>>;

function run(id: string, ins: readonly Float64Array[], params: KernelParams): Float64Array[] {
  const ind = getIndicator(id);
  if (!ind) throw new TaError('E_UNKNOWN_FUNCTION', `indicator "${id}" is not registered`);
  return ind.compute(ins, params);
}

/** Runs any registered indicator and returns its outputs keyed by output name. */
export function compute(
  id: string,
  ins: readonly Float64Array[],
  params: KernelParams = {},
): Record<string, Float64Array> {
  const ind = getIndicator(id);
  if (!ind) throw new TaError('E_UNKNOWN_FUNCTION', `indicator "${id}" is not registered`);
  const outs = ind.compute(ins, params);
  const res: Record<string, Float64Array> = {};
  ind.outputs.forEach((name, k) => (res[name] = outs[k]));
  return res;
}

/** Simple moving average (default period 30, TA-Lib). */
export const sma = (x: Float64Array, p: KernelParams = {}): Float64Array => run('sma', [x], p)[0];
/** Exponential moving average (default period 30, SMA seed; `seed: 1` for first-value seed). */
export const ema = (x: Float64Array, p: KernelParams = {}): Float64Array => run('ema', [x], p)[0];
