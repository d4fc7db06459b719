// The runner's features (spec section 3), each read over the valid bars up to the current one: the
// source's ATR14 (a plain 14-bar mean of true ranges from @baton/ta), RV12, the 10-bar micro trend,
// and the session, spread and RV bands.
import { compute } from '@baton/ta';
import { parseTimestamp } from './bars.js';
import type { RunnerConfig, RvBand, Session, SpreadBand } from './config.js';

/** Columns of the valid bars, with their true ranges. */
export interface ValidBars {
  readonly n: number;
  readonly o: Float64Array;
  readonly h: Float64Array;
  readonly l: Float64Array;
  readonly c: Float64Array;
  readonly spread: Float64Array;
  /** True range against the previous valid bar (NaN for the first). */
  readonly tr: Float64Array;
  /**
   * log(c[j] / c[j-1]) once computed (NaN until then): RV12 is read on every signal, usually on
   * consecutive bars, which share 11 of their 12 returns.
   */
  readonly logReturns: Float64Array;
}

export function validBars(
  o: Float64Array,
  h: Float64Array,
  l: Float64Array,
  c: Float64Array,
  spread: Float64Array,
): ValidBars {
  const tr = compute('true_range', [h, l, c]).value!;
  return { n: o.length, o, h, l, c, spread, tr, logReturns: new Float64Array(o.length).fill(NaN) };
}

/** ATR14 in price units at valid bar k: the mean of the last 14 true ranges, summed left to right; NaN before 15 bars. */
export function atr14(b: ValidBars, k: number): number {
  if (k < 14) return NaN;
  let sum = 0;
  for (let j = k - 13; j <= k; j++) sum += b.tr[j]!;
  return sum / 14;
}

const SQRT_288 = Math.sqrt(288);

/** RV12: √(Σ of 12 squared log returns) · √288; 0 before 13 bars or when not finite. */
export function rv12(b: ValidBars, k: number): number {
  if (k < 12) return 0;
  let rsq = 0;
  for (let j = k - 11; j <= k; j++) {
    let r = b.logReturns[j]!;
    if (r !== r) r = b.logReturns[j] = Math.log(b.c[j]! / b.c[j - 1]!);
    rsq += r * r;
  }
  const rv = Math.sqrt(rsq) * SQRT_288;
  return Number.isFinite(rv) ? rv : 0;
}

/** Correlation of the last 10 closes with time, clamped to [−1, 1]; 0 before 10 bars. */
export function microTrend(b: ValidBars, k: number): number {
  if (k < 9) return 0;
  let sy = 0;
  for (let j = k - 9; j <= k; j++) sy += b.c[j]!;
  const my = sy / 10;
  let cov = 0;
  let vx = 0;
  let vy = 0;
  for (let x = 0; x < 10; x++) {
    const dx = x - 4.5;
    const dy = b.c[k - 9 + x]! - my;
    cov += dx * dy;
    vx += dx * dx;
    vy += dy * dy;
  }
  if (vx <= 0 || vy <= 0) return 0;
  return Math.min(1, Math.max(-1, cov / Math.sqrt(vx * vy)));
}

export function rvBand(rv: number, cuts: readonly [number, number]): RvBand {
  return rv <= cuts[0] ? 'low' : rv <= cuts[1] ? 'mid' : 'high';
}

/** The bar's spread in pips (3.6): price units by default; negative or non-numeric is 0. */
export function spreadPips(spread: number, pip: number, r: RunnerConfig): number {
  let s =
    r.spread_input_mode === 'pips'
      ? spread
      : r.spread_input_mode === 'pipettes'
        ? spread * 0.1
        : spread / pip;
  if (r.spread_scale !== undefined && r.spread_scale > 0) s *= r.spread_scale;
  return s === s && s > 0 ? s : 0;
}

export function spreadBand(pips: number, r: RunnerConfig): SpreadBand {
  const eps = 1e-9;
  return pips <= r.spread_bands.narrow + eps
    ? 'narrow'
    : pips <= r.spread_bands.normal + eps
      ? 'normal'
      : 'wide';
}

/** The UTC hour of a timestamp, or −1 when it does not parse. Naive `YYYY-MM-DD HH:…` is read directly. */
export function utcHour(ts: string): number {
  const n = ts.length;
  if (
    (n === 19 || (n === 20 && ts.charCodeAt(19) === 90)) &&
    ts.charCodeAt(4) === 45 &&
    ts.charCodeAt(13) === 58
  ) {
    const a = ts.charCodeAt(11) - 48;
    const b = ts.charCodeAt(12) - 48;
    if (a >= 0 && a <= 2 && b >= 0 && b <= 9) return a * 10 + b;
  }
  const us = parseTimestamp(ts);
  return us === undefined ? -1 : new Date(Math.floor(us / 1000)).getUTCHours();
}

/** LDN 08–12 UTC, NY 13–21 UTC, TOK otherwise. */
export function sessionOf(hour: number): Session {
  return hour >= 8 && hour <= 12 ? 'LDN' : hour >= 13 && hour <= 21 ? 'NY' : 'TOK';
}
