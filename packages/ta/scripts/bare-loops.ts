// The reference for a single pass: the plainest correct typed-array loops for SMA and EMA
// (EMA seeded with the SMA of the first period, as TA-Lib does). The benchmarks time Baton's
// kernels against these. Each writes into `out` when given one, as Baton's kernels can.

export function bareSma(
  x: Float64Array,
  p: number,
  out: Float64Array = new Float64Array(x.length),
): Float64Array {
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

export function bareEma(
  x: Float64Array,
  p: number,
  out: Float64Array = new Float64Array(x.length),
): Float64Array {
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
