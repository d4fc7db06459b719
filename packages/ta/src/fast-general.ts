/**
 * The general loops behind the batch kernels of fast.ts: the NaN policy of docs/ta.md, bar by
 * bar. A fast kernel falls back to its general loop, writing into the same buffers, when its final
 * state shows that its input held a NaN; each general loop writes every element of its outputs.
 */

/** TA-Lib's zero for divisions: |v| < 1e-14. */
export const isZero = (v: number): boolean => -1e-14 < v && v < 1e-14;

/** The caller's buffer, or a new one of `n` values. */
export const buffer = (out: Float64Array | undefined, n: number): Float64Array => out ?? new Float64Array(n);

/** Rolling sum (or mean with `mean`), TA-Lib order, NaN-aware. */
export function sumGeneral(x: Float64Array, p: number, mean: boolean, into?: Float64Array): Float64Array {
  const n = x.length;
  const out = buffer(into, n);
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

/** EMA with SMA seed (or first-value seed); NaN inputs give NaN and are skipped. */
export function emaGeneral(
  x: Float64Array,
  p: number,
  k: number,
  seedFirst: boolean,
  into?: Float64Array,
): Float64Array {
  const n = x.length;
  const out = buffer(into, n);
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

/** RSI (cmo=false) or CMO (cmo=true), TA-Lib arithmetic; mirrors GainLossMachine. */
export function gainLossGeneral(x: Float64Array, p: number, cmo: boolean, into?: Float64Array): Float64Array {
  const n = x.length;
  const out = buffer(into, n);
  let prev = NaN;
  let cnt = 0;
  let gain = 0;
  let loss = 0;
  const p1 = p - 1;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v !== v) {
      out[i] = NaN;
      continue;
    }
    if (prev !== prev) {
      prev = v;
      out[i] = NaN;
      continue;
    }
    const d = v - prev;
    prev = v;
    if (cnt < p) {
      if (d < 0) loss -= d;
      else gain += d;
      if (++cnt < p) {
        out[i] = NaN;
        continue;
      }
    } else {
      loss *= p1;
      gain *= p1;
      if (d < 0) loss -= d;
      else gain += d;
    }
    loss /= p;
    gain /= p;
    const s = gain + loss;
    out[i] = isZero(s) ? 0 : cmo ? 100.0 * ((gain - loss) / s) : 100.0 * (gain / s);
  }
  return out;
}

/** ATR: Wilder smoothing of the true range (TA-Lib ATR); mirrors AtrCell. */
export function atrGeneral(
  h: Float64Array,
  l: Float64Array,
  c: Float64Array,
  p: number,
  into?: Float64Array,
): Float64Array {
  const n = h.length;
  const out = buffer(into, n);
  let pc = NaN;
  let cnt = 0;
  let sum = 0;
  let prev = NaN;
  const p1 = p - 1;
  for (let i = 0; i < n; i++) {
    const hi = h[i];
    const lo = l[i];
    const cl = c[i];
    const yc = pc;
    pc = cl;
    if (yc !== yc || hi !== hi || lo !== lo || cl !== cl) {
      out[i] = NaN;
      continue;
    }
    let tr = hi - lo;
    const a = Math.abs(hi - yc);
    if (a > tr) tr = a;
    const b = Math.abs(lo - yc);
    if (b > tr) tr = b;
    if (cnt >= p) {
      out[i] = prev = (prev * p1 + tr) / p;
    } else {
      sum += tr;
      out[i] = ++cnt < p ? NaN : (prev = sum / p);
    }
  }
  return out;
}

/** Bollinger bands over SMA and population deviation (TA-Lib BBANDS arithmetic); mirrors BbandsMachine. */
export function bbandsGeneral(
  x: Float64Array,
  p: number,
  up: number,
  dn: number,
  into?: readonly Float64Array[],
): Float64Array[] {
  const n = x.length;
  const u = buffer(into?.[0], n);
  const m = buffer(into?.[1], n);
  const lo = buffer(into?.[2], n);
  let s1 = 0;
  let s2 = 0;
  let nan = 0;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v === v) {
      s1 += v;
      s2 += v * v;
    } else nan++;
    if (i < p - 1) {
      u[i] = m[i] = lo[i] = NaN;
      continue;
    }
    const m1 = s1 / p;
    const m2 = s2 / p;
    const bad = nan > 0;
    const t = x[i - p + 1];
    if (t === t) {
      s1 -= t;
      s2 -= t * t;
    } else nan--;
    if (bad) {
      u[i] = m[i] = lo[i] = NaN;
      continue;
    }
    const variance = m2 - m1 * m1;
    const sd = variance < 1e-14 ? 0 : Math.sqrt(variance);
    m[i] = m1;
    u[i] = m1 + sd * up;
    lo[i] = m1 - sd * dn;
  }
  return [u, m, lo];
}

/** MACD, TA-Lib arithmetic and seeding; mirrors MacdMachine. */
export function macdGeneral(
  x: Float64Array,
  fastP: number,
  slowP: number,
  sigP: number,
  into?: readonly Float64Array[],
): Float64Array[] {
  if (slowP < fastP) [fastP, slowP] = [slowP, fastP];
  const n = x.length;
  const mo = buffer(into?.[0], n);
  const so = buffer(into?.[1], n);
  const ho = buffer(into?.[2], n);
  const kf = 2 / (fastP + 1);
  const ks = 2 / (slowP + 1);
  const kg = 2 / (sigP + 1);
  const skip = slowP - fastP;
  let seen = 0;
  let fn = 0;
  let fsum = 0;
  let fprev = NaN;
  let sn = 0;
  let ssum = 0;
  let sprev = NaN;
  let gn = 0;
  let gsum = 0;
  let gprev = NaN;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (v !== v) {
      mo[i] = so[i] = ho[i] = NaN;
      continue;
    }
    seen++;
    let f = NaN;
    if (seen > skip) {
      if (fn >= fastP) f = fprev = (v - fprev) * kf + fprev;
      else {
        fsum += v;
        if (++fn === fastP) f = fprev = fsum / fastP;
      }
    }
    let sl = NaN;
    if (sn >= slowP) sl = sprev = (v - sprev) * ks + sprev;
    else {
      ssum += v;
      if (++sn === slowP) sl = sprev = ssum / slowP;
    }
    if (sl !== sl) {
      mo[i] = so[i] = ho[i] = NaN;
      continue;
    }
    const m = f - sl;
    let g = NaN;
    if (gn >= sigP) g = gprev = (m - gprev) * kg + gprev;
    else {
      gsum += m;
      if (++gn === sigP) g = gprev = gsum / sigP;
    }
    if (g !== g) mo[i] = so[i] = ho[i] = NaN;
    else {
      mo[i] = m;
      so[i] = g;
      ho[i] = m - g;
    }
  }
  return [mo, so, ho];
}

/** ADX, +DI, −DI, TA-Lib arithmetic; mirrors AdxMachine. */
export function adxGeneral(
  hi: Float64Array,
  lo: Float64Array,
  cl: Float64Array,
  n: number,
  into?: readonly Float64Array[],
): Float64Array[] {
  const len = hi.length;
  // bars with a missing input are skipped below: they keep this NaN
  const ao = buffer(into?.[0], len).fill(NaN);
  const po = buffer(into?.[1], len).fill(NaN);
  const mo = buffer(into?.[2], len).fill(NaN);
  let t = 0;
  let ph = NaN;
  let pl = NaN;
  let pc = NaN;
  let pdm = 0;
  let mdm = 0;
  let trs = 0;
  let sumDx = 0;
  let adx = NaN;
  const last = 2 * n - 1;
  let i = 0;
  // Warm-up loop (seeding); the steady-state loop below is kept separate so that the
  // optimizing compiler sees it with full type feedback (one loop deoptimized ~5x).
  for (; i < len && t <= last; i++) {
    const h = hi[i];
    const l = lo[i];
    const c = cl[i];
    if (h !== h || l !== l || c !== c) continue;
    const idx = t++;
    if (idx === 0) {
      ph = h;
      pl = l;
      pc = c;
      continue;
    }
    const diffP = h - ph;
    const diffM = pl - l;
    ph = h;
    pl = l;
    let tr = h - l;
    const a = Math.abs(h - pc);
    if (a > tr) tr = a;
    const b = Math.abs(l - pc);
    if (b > tr) tr = b;
    pc = c;
    if (idx < n) {
      if (diffM > 0 && diffP < diffM) mdm += diffM;
      else if (diffP > 0 && diffP > diffM) pdm += diffP;
      trs += tr;
      continue;
    }
    mdm -= mdm / n;
    pdm -= pdm / n;
    if (diffM > 0 && diffP < diffM) mdm += diffM;
    else if (diffP > 0 && diffP > diffM) pdm += diffP;
    trs = trs - trs / n + tr;
    let dx = NaN;
    if (!isZero(trs)) {
      const mdi = 100.0 * (mdm / trs);
      const pdi = 100.0 * (pdm / trs);
      po[i] = pdi;
      mo[i] = mdi;
      const s = mdi + pdi;
      if (!isZero(s)) dx = 100.0 * (Math.abs(mdi - pdi) / s);
    } else {
      po[i] = 0;
      mo[i] = 0;
    }
    if (dx === dx) sumDx += dx;
    if (idx === last) {
      adx = sumDx / n;
      ao[i] = adx;
    }
  }
  return adxGeneralSteady(hi, lo, cl, n, i, ao, po, mo, ph, pl, pc, pdm, mdm, trs, adx);
}

function adxGeneralSteady(
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
): Float64Array[] {
  const len = hi.length;
  const n1 = n - 1;
  for (let i = from; i < len; i++) {
    const h = hi[i];
    const l = lo[i];
    const c = cl[i];
    if (h !== h || l !== l || c !== c) continue;
    const diffP = h - ph;
    const diffM = pl - l;
    ph = h;
    pl = l;
    let tr = h - l;
    const a = Math.abs(h - pc);
    if (a > tr) tr = a;
    const b = Math.abs(l - pc);
    if (b > tr) tr = b;
    pc = c;
    mdm -= mdm / n;
    pdm -= pdm / n;
    if (diffM > 0 && diffP < diffM) mdm += diffM;
    else if (diffP > 0 && diffP > diffM) pdm += diffP;
    trs = trs - trs / n + tr;
    if (!isZero(trs)) {
      const mdi = 100.0 * (mdm / trs);
      const pdi = 100.0 * (pdm / trs);
      po[i] = pdi;
      mo[i] = mdi;
      const s = mdi + pdi;
      if (!isZero(s)) adx = (adx * n1 + 100.0 * (Math.abs(mdi - pdi) / s)) / n;
    } else {
      po[i] = 0;
      mo[i] = 0;
    }
    ao[i] = adx;
  }
  return [ao, po, mo];
}
