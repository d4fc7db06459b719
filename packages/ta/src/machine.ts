/**
 * The streaming form of an indicator: a state machine that consumes one bar and
 * writes that bar's outputs. Batch kernels without a dedicated fast loop run the
 * same machine over the whole input, so batch and streaming share one implementation.
 */

/** Incremental state machine behind every indicator's streaming form. */
export interface Machine {
  /**
   * Consumes bar `i` of `ins` (one array per input, in the indicator's `inputs` order)
   * and writes the outputs of that bar at index `i` of `outs`. Commits the state.
   */
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void;
}

/** Runs a machine over whole input series: the generic batch path. */
export function runMachine(
  m: Machine,
  ins: readonly Float64Array[],
  n: number,
  outputs: number,
  into?: readonly Float64Array[],
): Float64Array[] {
  const outs: Float64Array[] = [];
  for (let k = 0; k < outputs; k++) outs.push(into?.[k] ?? new Float64Array(n));
  for (let i = 0; i < n; i++) m.step(ins, i, outs);
  return outs;
}
