/**
 * Dedicated batch loops for the hottest kernels. Each one performs exactly the
 * arithmetic of its streaming machine, in the same order, so the results are
 * bit-identical (checked by the streaming property tests); they exist only
 * because a monomorphic loop over typed arrays is several times faster than
 * stepping a machine per bar.
 *
 * Every kernel has two loops:
 * - a fast path for inputs without missing values after the first valid bar: no NaN
 *   checks, no warm-up test per bar, branch-free selections where the branch would be
 *   unpredictable. A NaN input poisons the running state (sums, EMAs, Wilder averages
 *   stay NaN once they read one), so one test of the final state tells whether the
 *   fast path saw a NaN; only then is the result recomputed by
 * - the general loop (`*General`, in fast-general.ts), which implements the NaN policy of docs/ta.md.
 * Leading NaNs (the warm-up of a composed indicator, e.g. `ema(rsi(close, 14), 9)`)
 * stay on the fast path: both loops leave the state untouched until the first valid bar.
 *
 * Every kernel writes into caller-owned buffers when given them (`out`, checked by
 * `compute()`: one per output, each of the input's length, none overlapping an input) and
 * allocates only when not. Both loops write every element of every output, so a reused
 * buffer's old contents never show through.
 */

import {
  adxGeneral,
  atrGeneral,
  bbandsGeneral,
  buffer,
  emaGeneral,
  gainLossGeneral,
  isZero,
  macdGeneral,
  sumGeneral,
} from './fast-general.js';

/** Index of the first non-NaN value of `x` (x.length if none). */

function firstValid(x: Float64Array): number {
  const n = x.length;
  let i = 0;
  while (i < n && x[i] !== x[i]) i++;
  return i;
}

/** Rolling sum (or mean with `mean`), TA-Lib order, NaN-aware. */
export function sumBatch(x: Float64Array, p: number, mean: boolean, into?: Float64Array): Float64Array {
  const n = x.length;
  const s = firstValid(x);
  const first = s + p - 1; // first bar with a value
  if (first >= n) return sumGeneral(x, p, mean, into);
  const out = buffer(into, n);
  out.fill(NaN, 0, first);
  let sum = 0;
  for (let i = s; i < first; i++) sum += x[i];
  if (mean) {
    for (let i = first, j = s; i < n; i++, j++) {
      sum += x[i];
      out[i] = sum / p;
      sum -= x[j];
    }
  } else {
    for (let i = first, j = s; i < n; i++, j++) {
      sum += x[i];
      out[i] = sum;
      sum -= x[j];
    }
  }
  // Every input from s on was added: a NaN among them leaves `sum` NaN.
  return sum === sum ? out : sumGeneral(x, p, mean, out);
}

/** Simple moving average. */
export function smaBatch(x: Float64Array, p: number, into?: Float64Array): Float64Array {
  return sumBatch(x, p, true, into);
}

/** EMA with SMA seed (or first-value seed); NaN inputs give NaN and are skipped. */
export function emaBatch(
  x: Float64Array,
  p: number,
  k: number,
  seedFirst: boolean,
  into?: Float64Array,
): Float64Array {
  const n = x.length;
  const s = firstValid(x);
  const first = seedFirst ? s : s + p - 1;
  if (first >= n) return emaGeneral(x, p, k, seedFirst, into);
  const out = buffer(into, n);
  out.fill(NaN, 0, first);
  let prev: number;
  if (seedFirst) prev = x[s];
  else {
    let sum = 0;
    for (let i = s; i <= first; i++) sum += x[i];
    prev = sum / p;
  }
  out[first] = prev;
  for (let i = first + 1; i < n; i++) out[i] = prev = (x[i] - prev) * k + prev;
  return prev === prev ? out : emaGeneral(x, p, k, seedFirst, out);
}

/** RSI (cmo=false) or CMO (cmo=true), TA-Lib arithmetic; mirrors GainLossMachine. */
export function gainLossBatch(x: Float64Array, p: number, cmo: boolean, into?: Float64Array): Float64Array {
  const n = x.length;
  const s = firstValid(x);
  const first = s + p; // p differences after the first valid bar
  if (first >= n) return gainLossGeneral(x, p, cmo, into);
  const out = buffer(into, n);
  out.fill(NaN, 0, first);
  let gain = 0;
  let loss = 0;
  let prev = x[s];
  // `chk` sums the differences only to carry a NaN input to the end (the selections below drop it).
  let chk = 0;
  for (let i = s + 1; i <= first; i++) {
    const v = x[i];
    const d = v - prev;
    prev = v;
    chk += d;
    if (d < 0) loss -= d;
    else gain += d;
  }
  loss /= p;
  gain /= p;
  let sum = gain + loss;
  out[first] = isZero(sum) ? 0 : cmo ? 100.0 * ((gain - loss) / sum) : 100.0 * (gain / sum);
  const p1 = p - 1;
  // Steady state without the unpredictable `if (d < 0)`: `loss -= d` equals `loss + -d`,
  // and adding ±0 (a difference times a 0 flag) leaves a non-negative sum unchanged, so
  // these are the general loop's bits.
  if (cmo) {
    for (let i = first + 1; i < n; i++) {
      const v = x[i];
      const d = v - prev;
      prev = v;
      chk += d;
      loss = (loss * p1 + -d * Number(d < 0)) / p;
      gain = (gain * p1 + d * Number(d > 0)) / p;
      sum = gain + loss;
      out[i] = isZero(sum) ? 0 : 100.0 * ((gain - loss) / sum);
    }
  } else {
    for (let i = first + 1; i < n; i++) {
      const v = x[i];
      const d = v - prev;
      prev = v;
      chk += d;
      loss = (loss * p1 + -d * Number(d < 0)) / p;
      gain = (gain * p1 + d * Number(d > 0)) / p;
      sum = gain + loss;
      out[i] = isZero(sum) ? 0 : 100.0 * (gain / sum);
    }
  }
  return chk === chk ? out : gainLossGeneral(x, p, cmo, out);
}

/** First bar i ≥ 1 where the true range is defined (close[i−1], high, low, close valid). */
function firstTrueRange(h: Float64Array, l: Float64Array, c: Float64Array): number {
  const n = h.length;
  let i = 1;
  while (i < n && (c[i - 1] !== c[i - 1] || h[i] !== h[i] || l[i] !== l[i] || c[i] !== c[i])) i++;
  return i;
}

/** ATR: Wilder smoothing of the true range (TA-Lib ATR); mirrors AtrCell. */
export function atrBatch(
  h: Float64Array,
  l: Float64Array,
  c: Float64Array,
  p: number,
  into?: Float64Array,
): Float64Array {
  const n = h.length;
  const s = firstTrueRange(h, l, c);
  const first = s + p - 1;
  if (first >= n) return atrGeneral(h, l, c, p, into);
  const out = buffer(into, n);
  out.fill(NaN, 0, first);
  let sum = 0;
  let pc = c[s - 1];
  // A NaN high or low makes the true range NaN (h − l is NaN and no comparison replaces
  // it); a NaN close only makes |h − pc| and |l − pc| NaN, so `chk` sums the closes.
  let chk = 0;
  for (let i = s; i <= first; i++) {
    const hi = h[i];
    const lo = l[i];
    let tr = hi - lo;
    const a = Math.abs(hi - pc);
    if (a > tr) tr = a;
    const b = Math.abs(lo - pc);
    if (b > tr) tr = b;
    pc = c[i];
    chk += pc;
    sum += tr;
  }
  let prev = sum / p;
  out[first] = prev;
  const p1 = p - 1;
  for (let i = first + 1; i < n; i++) {
    const hi = h[i];
    const lo = l[i];
    let tr = hi - lo;
    const a = Math.abs(hi - pc);
    if (a > tr) tr = a;
    const b = Math.abs(lo - pc);
    if (b > tr) tr = b;
    pc = c[i];
    chk += pc;
    out[i] = prev = (prev * p1 + tr) / p;
  }
  return prev === prev && chk === chk ? out : atrGeneral(h, l, c, p, out);
}

/** Bollinger bands over SMA and population deviation (TA-Lib BBANDS arithmetic); mirrors BbandsMachine. */
export function bbandsBatch(
  x: Float64Array,
  p: number,
  up: number,
  dn: number,
  into?: readonly Float64Array[],
): Float64Array[] {
  const n = x.length;
  const s = firstValid(x);
  const first = s + p - 1;
  if (first >= n) return bbandsGeneral(x, p, up, dn, into);
  const u = buffer(into?.[0], n);
  const m = buffer(into?.[1], n);
  const lo = buffer(into?.[2], n);
  u.fill(NaN, 0, first);
  m.fill(NaN, 0, first);
  lo.fill(NaN, 0, first);
  let s1 = 0;
  let s2 = 0;
  for (let i = s; i < first; i++) {
    const v = x[i];
    s1 += v;
    s2 += v * v;
  }
  for (let i = first, j = s; i < n; i++, j++) {
    const v = x[i];
    s1 += v;
    s2 += v * v;
    const m1 = s1 / p;
    const m2 = s2 / p;
    const t = x[j];
    s1 -= t;
    s2 -= t * t;
    const variance = m2 - m1 * m1;
    const sd = variance < 1e-14 ? 0 : Math.sqrt(variance);
    m[i] = m1;
    u[i] = m1 + sd * up;
    lo[i] = m1 - sd * dn;
  }
  return s1 === s1 ? [u, m, lo] : bbandsGeneral(x, p, up, dn, [u, m, lo]);
}

/** MACD, TA-Lib arithmetic and seeding; mirrors MacdMachine. */
export function macdBatch(
  x: Float64Array,
  fastP: number,
  slowP: number,
  sigP: number,
  into?: readonly Float64Array[],
): Float64Array[] {
  if (slowP < fastP) [fastP, slowP] = [slowP, fastP];
  const n = x.length;
  const s = firstValid(x);
  const seedEnd = s + slowP - 1; // both EMAs are seeded here, the MACD line starts
  const first = seedEnd + sigP - 1; // the signal is seeded here, all outputs start
  if (first >= n) return macdGeneral(x, fastP, slowP, sigP, into);
  const mo = buffer(into?.[0], n);
  const so = buffer(into?.[1], n);
  const ho = buffer(into?.[2], n);
  mo.fill(NaN, 0, first);
  so.fill(NaN, 0, first);
  ho.fill(NaN, 0, first);
  const kf = 2 / (fastP + 1);
  const ks = 2 / (slowP + 1);
  const kg = 2 / (sigP + 1);
  let ssum = 0;
  let fsum = 0;
  const fastFrom = s + slowP - fastP;
  for (let i = s; i <= seedEnd; i++) {
    const v = x[i];
    if (i >= fastFrom) fsum += v;
    ssum += v;
  }
  let f = fsum / fastP;
  let sl = ssum / slowP;
  let mv = f - sl;
  let gsum = 0;
  gsum += mv;
  for (let i = seedEnd + 1; i <= first; i++) {
    const v = x[i];
    f = (v - f) * kf + f;
    sl = (v - sl) * ks + sl;
    mv = f - sl;
    gsum += mv;
  }
  let g = gsum / sigP;
  mo[first] = mv;
  so[first] = g;
  ho[first] = mv - g;
  for (let i = first + 1; i < n; i++) {
    const v = x[i];
    f = (v - f) * kf + f;
    sl = (v - sl) * ks + sl;
    mv = f - sl;
    g = (mv - g) * kg + g;
    mo[i] = mv;
    so[i] = g;
    ho[i] = mv - g;
  }
  return sl === sl && g === g ? [mo, so, ho] : macdGeneral(x, fastP, slowP, sigP, [mo, so, ho]);
}

/** First bar where high, low and close are all valid (x.length if none). */
function firstValid3(h: Float64Array, l: Float64Array, c: Float64Array): number {
  const n = h.length;
  let i = 0;
  while (i < n && (h[i] !== h[i] || l[i] !== l[i] || c[i] !== c[i])) i++;
  return i;
}

/** ADX, +DI, −DI, TA-Lib arithmetic; mirrors AdxMachine. */
export function adxBatch(
  hi: Float64Array,
  lo: Float64Array,
  cl: Float64Array,
  n: number,
  into?: readonly Float64Array[],
): Float64Array[] {
  const len = hi.length;
  const s = firstValid3(hi, lo, cl);
  const diFrom = s + n; // first +DI/−DI
  const first = s + 2 * n - 1; // first ADX
  if (first >= len) return adxGeneral(hi, lo, cl, n, into);
  const ao = buffer(into?.[0], len);
  const po = buffer(into?.[1], len);
  const mo = buffer(into?.[2], len);
  ao.fill(NaN, 0, first);
  po.fill(NaN, 0, diFrom);
  mo.fill(NaN, 0, diFrom);
  let ph = hi[s];
  let pl = lo[s];
  let pc = cl[s];
  let pdm = 0;
  let mdm = 0;
  let trs = 0;
  // A NaN high or low makes the true range and `trs` NaN for good; `chk` sums the
  // closes so that a NaN close is seen too.
  let chk = 0;
  // Seed: n−1 bars of directional movement and true range.
  for (let i = s + 1; i < diFrom; i++) {
    const h = hi[i];
    const l = lo[i];
    const diffP = h - ph;
    const diffM = pl - l;
    ph = h;
    pl = l;
    let tr = h - l;
    const a = Math.abs(h - pc);
    if (a > tr) tr = a;
    const b = Math.abs(l - pc);
    if (b > tr) tr = b;
    pc = cl[i];
    chk += pc;
    if (diffM > 0 && diffP < diffM) mdm += diffM;
    else if (diffP > 0 && diffP > diffM) pdm += diffP;
    trs += tr;
  }
  // n bars of DI whose DX values are averaged into the first ADX.
  let sumDx = 0;
  for (let i = diFrom; i <= first; i++) {
    const h = hi[i];
    const l = lo[i];
    const diffP = h - ph;
    const diffM = pl - l;
    ph = h;
    pl = l;
    let tr = h - l;
    const a = Math.abs(h - pc);
    if (a > tr) tr = a;
    const b = Math.abs(l - pc);
    if (b > tr) tr = b;
    pc = cl[i];
    chk += pc;
    mdm -= mdm / n;
    pdm -= pdm / n;
    if (diffM > 0 && diffP < diffM) mdm += diffM;
    else if (diffP > 0 && diffP > diffM) pdm += diffP;
    trs = trs - trs / n + tr;
    const z = isZero(trs);
    const mdi = z ? 0 : 100.0 * (mdm / trs);
    const pdi = z ? 0 : 100.0 * (pdm / trs);
    po[i] = pdi;
    mo[i] = mdi;
    const sdi = mdi + pdi;
    if (!z && !isZero(sdi)) sumDx += 100.0 * (Math.abs(mdi - pdi) / sdi);
  }
  const adx = sumDx / n;
  ao[first] = adx;
  return adxSteady(hi, lo, cl, n, first + 1, ao, po, mo, ph, pl, pc, pdm, mdm, trs, adx, chk);
}

/** Steady state of {@link adxBatch}: its own function, so its optimized code does not depend on the seeding loops. */
function adxSteady(
  hi: Float64Array,
  lo: Float64Array,
  cl: Float64Array,
  n: number,
  from: number,
  ao: Float64Array,
  po: Float64Array,
  mo: Float64Array,
  ph: number,
  pl: number,
  pc: number,
  pdm: number,
  mdm: number,
  trs: number,
  adx: number,
  chk: number,
): Float64Array[] {
  const len = hi.length;
  const n1 = n - 1;
  for (let i = from; i < len; i++) {
    const h = hi[i];
    const l = lo[i];
    const diffP = h - ph;
    const diffM = pl - l;
    ph = h;
    pl = l;
    let tr = h - l;
    const a = Math.abs(h - pc);
    if (a > tr) tr = a;
    const b = Math.abs(l - pc);
    if (b > tr) tr = b;
    pc = cl[i];
    chk += pc;
    // Branch-free form of `if (minus wins) mdm += diffM; else if (plus wins) pdm += diffP`:
    // 0/1 flags from comparisons; a move times a 0 flag is ±0, which leaves a sum unchanged.
    const mf = Number(diffM > 0) & Number(diffP < diffM);
    const pf = (mf ^ 1) & Number(diffP > 0) & Number(diffP > diffM);
    mdm = mdm - mdm / n + diffM * mf;
    pdm = pdm - pdm / n + diffP * pf;
    trs = trs - trs / n + tr;
    const z = isZero(trs);
    const mdi = z ? 0 : 100.0 * (mdm / trs);
    const pdi = z ? 0 : 100.0 * (pdm / trs);
    po[i] = pdi;
    mo[i] = mdi;
    const sdi = mdi + pdi;
    if (!z && !isZero(sdi)) adx = (adx * n1 + 100.0 * (Math.abs(mdi - pdi) / sdi)) / n;
    ao[i] = adx;
  }
  if (trs === trs && chk === chk) return [ao, po, mo];
  return adxGeneral(hi, lo, cl, n, [ao, po, mo]);
}
