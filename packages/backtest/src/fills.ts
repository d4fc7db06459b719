// Fills and exits (spec section 7): the entry bar's fill and same-bar exits measured from the OR
// level, open positions trailed bar by bar, and same-bar collisions settled by the mode's policy.
import type { SameBarPolicy } from './config.js';
import type { Side } from './strategy.js';

export type ExitReason = 'tp' | 'sl' | 'trail' | 'session_end' | 'timeout';

/** An exit: its price, reason and, under the probabilistic policy, the probability of a win (else NaN). */
export interface Exit {
  price: number;
  reason: ExitReason;
  prob: number;
}

/** How fills are simulated. */
export interface FillRules {
  pip: number;
  policy: SameBarPolicy;
  /** λ of the bridge blend, clamped to [0, 1]. */
  lambda: number;
  driftScale: number;
  slipCapPips: number;
  maxHoldBars: number;
}

/**
 * Probability that the take-profit came first on a bar that reached both (7.4): a blend of the
 * distance ratio and the bar's drift.
 */
export function bridgeProbability(
  side: Side,
  entry: number,
  tp: number,
  stop: number,
  o: number,
  h: number,
  l: number,
  c: number,
  rules: FillRules,
): number {
  const pip = rules.pip;
  const dTp = Math.max(Math.abs(tp - entry) / pip, 1e-9);
  const dSl = Math.max(Math.abs(entry - stop) / pip, 1e-9);
  const base = dSl / (dTp + dSl);
  const range = Math.max(h - l, pip);
  const drift = side === 1 ? (c - o) / range : (o - c) / range;
  const prior = 0.5 * (1 + Math.tanh(rules.driftScale * drift));
  const lam = Math.min(1, Math.max(0, rules.lambda));
  const p = (1 - lam) * base + lam * prior;
  return Math.min(0.999, Math.max(0.001, p));
}

/** Settles a bar that reached both levels, by policy. */
function collision(
  out: Exit,
  side: Side,
  entry: number,
  tp: number,
  stop: number,
  stopReason: ExitReason,
  o: number,
  h: number,
  l: number,
  c: number,
  rules: FillRules,
): void {
  if (rules.policy === 'sl_first') set(out, stop, stopReason, NaN);
  else if (rules.policy === 'tp_first') set(out, tp, 'tp', NaN);
  else {
    const p = bridgeProbability(side, entry, tp, stop, o, h, l, c, rules);
    set(out, p * tp + (1 - p) * stop, p >= 0.5 ? 'tp' : stopReason, p);
  }
}

function set(out: Exit, price: number, reason: ExitReason, prob: number): void {
  out.price = price;
  out.reason = reason;
  out.prob = prob;
}

export type EntryResult = 'no_fill' | 'exit' | 'open';

/**
 * The entry bar (7.1). Writes the fill price to `fill.price` and, for an exit on this bar, the exit
 * to `exit`. Levels are measured from the OR level `level`, not from the fill.
 */
export function enterOnBar(
  side: Side,
  level: number,
  tpPips: number,
  slPips: number,
  trailPips: number,
  o: number,
  h: number,
  l: number,
  c: number,
  rules: FillRules,
  fill: { price: number },
  exit: Exit,
): EntryResult {
  const pip = rules.pip;
  const cap = rules.slipCapPips * pip;
  let stop = NaN;
  let stopReason: ExitReason = 'sl';
  let tpHit: boolean;
  let tpPx: number;
  if (side === 1) {
    if (h < level) return 'no_fill';
    fill.price = Math.min(h, level + cap);
    tpPx = level + tpPips * pip;
    const slPx = level - slPips * pip;
    if (trailPips > 0 && h >= level + trailPips * pip) {
      const trailPx = Math.max(slPx, h - trailPips * pip);
      if (l <= trailPx) {
        stop = trailPx;
        stopReason = 'trail';
      }
    }
    if (stop !== stop && l <= slPx) stop = slPx;
    tpHit = h >= tpPx;
  } else {
    if (l > level) return 'no_fill';
    fill.price = Math.max(l, level - cap);
    tpPx = level - tpPips * pip;
    const slPx = level + slPips * pip;
    if (trailPips > 0 && l <= level - trailPips * pip) {
      const trailPx = Math.min(slPx, l + trailPips * pip);
      if (h >= trailPx) {
        stop = trailPx;
        stopReason = 'trail';
      }
    }
    if (stop !== stop && h >= slPx) stop = slPx;
    tpHit = l <= tpPx;
  }
  const probabilistic = rules.policy === 'probabilistic';
  if (stop === stop && tpHit) collision(exit, side, level, tpPx, stop, stopReason, o, h, l, c, rules);
  else if (stop === stop) set(exit, stop, stopReason, probabilistic ? 0 : NaN);
  else if (tpHit) set(exit, tpPx, 'tp', probabilistic ? 1 : NaN);
  else return 'open';
  return 'exit';
}

/** An open position (7.3). */
export class Position {
  hold = 0;
  constructor(
    readonly side: Side,
    readonly entryPx: number,
    readonly tpPx: number,
    public slPx: number,
    readonly trailPips: number,
    readonly qty: number,
    public hh: number,
    public ll: number,
    readonly entryTs: string,
    /** The entry bar's `zscore` column (NaN when the file has none). */
    readonly zscore: number,
    /** The entry's EV bucket (session, spread band, RV band). */
    readonly bucket: number,
    readonly spreadPips: number,
    readonly band: 'narrow' | 'normal' | 'wide',
    readonly slipActual: number,
    readonly evLcb: number,
  ) {}

  /**
   * A bar after the entry bar: trails the stop, then checks the stop, the take-profit, the session
   * end and the holding limit. Returns true and fills `exit` when the position closes on this bar.
   */
  step(
    o: number,
    h: number,
    l: number,
    c: number,
    newSession: boolean,
    rules: FillRules,
    exit: Exit,
  ): boolean {
    const pip = rules.pip;
    const old = this.slPx;
    let moved = false;
    if (this.trailPips > 0) {
      if (this.side === 1) {
        this.hh = Math.max(this.hh, h);
        this.slPx = Math.max(this.slPx, this.hh - this.trailPips * pip);
        moved = this.slPx > old + 1e-9;
      } else {
        this.ll = Math.min(this.ll, l);
        this.slPx = Math.min(this.slPx, this.ll + this.trailPips * pip);
        moved = this.slPx < old - 1e-9;
      }
    }
    const stopReason: ExitReason = moved ? 'trail' : 'sl';
    const slHit = this.side === 1 ? l <= this.slPx : h >= this.slPx;
    const tpHit = this.side === 1 ? h >= this.tpPx : l <= this.tpPx;
    if (slHit && tpHit) {
      collision(exit, this.side, this.entryPx, this.tpPx, this.slPx, stopReason, o, h, l, c, rules);
      return true;
    }
    if (slHit) {
      set(exit, this.slPx, stopReason, NaN);
      return true;
    }
    if (tpHit) {
      set(exit, this.tpPx, 'tp', NaN);
      return true;
    }
    this.hold++;
    if (newSession) {
      set(exit, o, 'session_end', NaN);
      return true;
    }
    if (this.hold >= rules.maxHoldBars) {
      set(exit, o, 'timeout', NaN);
      return true;
    }
    return false;
  }
}
