/**
 * Dedicated batch loops for the hottest kernels. Each one performs exactly the
 * arithmetic of its streaming machine, in the same order, so the results are
 * bit-identical (checked by the streaming property tests); they exist only
 * because a monomorphic loop over typed arrays is several times faster than
 * stepping a machine per bar.
 */

/** Rolling sum (or mean with `mean`), TA-Lib order, NaN-aware. */
export function sumBatch(x: Float64Array, p: number, mean: boolean): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  let sum = 0;
  let nan = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v === v) sum += v;
    else nan++;
    if (i < p - 1) {
      out[i] = NaN;
      continue;
    }
    out[i] = nan > 0 ? NaN : mean ? sum / p : sum;
    const t = x[i - p + 1];
    if (t === t) sum -= t;
    else nan--;
  }
  return out;
}

/** Simple moving average. */
export function smaBatch(x: Float64Array, p: number): Float64Array {
  return sumBatch(x, p, true);
}

/** EMA with SMA seed (or first-value seed); NaN inputs give NaN and are skipped. */
export function emaBatch(x: Float64Array, p: number, k: number, seedFirst: boolean): Float64Array {
  const n = x.length;
  const out = new Float64Array(n);
  let i = 0;
  let prev = NaN;
  if (seedFirst) {
    for (; i < n; i++) {
      const v = x[i];
      if (v === v) {
        out[i++] = prev = v;
        break;
      }
      out[i] = NaN;
    }
  } else {
    let cnt = 0;
    let sum = 0;
    for (; i < n && cnt < p; i++) {
      const v = x[i];
      out[i] = NaN;
      if (v === v) {
        sum += v;
        if (++cnt === p) out[i] = prev = sum / p;
      }
    }
  }
  for (; i < n; i++) {
    const v = x[i];
    if (v === v) out[i] = prev = (v - prev) * k + prev;
    else out[i] = NaN;
  }
  return out;
}
