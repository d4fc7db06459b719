// The DayORB5m strategy (spec section 4): the opening range latched on the session's or_n-th bar,
// breakouts beyond it (optionally after a retest), its gate, and its order emission with sizing.
import { BatonError } from '@baton/core';
import type { RvBand, Session, StrategyParams } from './config.js';
import { productionSize, warmupSize, type SizingInput } from './sizing.js';

export type Side = 1 | -1;

/** A breakout the strategy would trade, before any gate. */
export interface PendingSignal {
  side: Side;
  /** The OR level: or_h for a buy, or_l for a sell. */
  entry: number;
  tp_pips: number;
  sl_pips: number;
  trail_pips: number;
  atr_pips: number;
  micro_trend: number;
}

/** What the runner knows about the bar when the strategy gates and sizes a signal. */
export interface EntryContext extends SizingInput {
  session: Session;
  rv_band: RvBand;
  or_atr_ratio: number;
  min_or_atr_ratio: number;
  allow_low_rv: boolean;
  threshold_lcb_pip: number;
  ev_mode: 'off' | 'lcb' | 'mean';
  ev_lcb: number;
  p_lcb: number;
  warmup_left: number;
  loss_streak: number;
  daily_loss_pips: number;
  daily_trade_count: number;
  /** True when the router gate passes (session allowed, spread band narrow or normal). */
  router_ok: boolean;
}

/** Why a gate refused. */
export type StrategyBlock = 'or_filter' | 'rv_filter' | 'ny_high_rv_block' | 'ny_high_rv_or_filter';

export class DayOrbStrategy {
  orH = NaN;
  orL = NaN;
  inOrWindow = true;
  barIdx = 0;
  lastSignalBar = -1e9;
  broken = false;
  signalsToday = 0;
  // retest mode
  waiting = false;
  seen = false;
  direction: Side | 0 = 0;
  deadline = 0;
  readonly pending: PendingSignal = {
    side: 1,
    entry: 0,
    tp_pips: 0,
    sl_pips: 0,
    trail_pips: 0,
    atr_pips: 0,
    micro_trend: 0,
  };

  constructor(
    readonly p: StrategyParams,
    private readonly pip: number,
  ) {}

  /**
   * One flat bar (4.1). `orHigh`/`orLow` are the first or_n session bars' range (NaN before the
   * or_n-th bar); `atrPips` and `microTrend` are read only when a breakout is found.
   * @returns true when `this.pending` holds a signal.
   */
  update(
    h: number,
    l: number,
    c: number,
    newSession: boolean,
    sessionBars: number,
    orHigh: number,
    orLow: number,
    atrPips: () => number,
    microTrend: () => number,
  ): boolean {
    const p = this.p;
    if (newSession) {
      this.orH = this.orL = NaN;
      this.inOrWindow = true;
      this.broken = false;
      this.waiting = this.seen = false;
      this.direction = 0;
      this.signalsToday = 0;
    }
    this.barIdx++;
    if (sessionBars < p.or_n) this.inOrWindow = true;
    else if (this.inOrWindow) {
      this.orH = orHigh;
      this.orL = orLow;
      this.inOrWindow = false;
    }
    if (this.orH !== this.orH || this.broken) return false;
    const side = p.require_retest ? this.retest(h, l, c, atrPips) : this.breakout(h, l, c);
    if (side === 0) return false;
    const atr = atrPips();
    const s = this.pending;
    s.side = side;
    s.entry = side === 1 ? this.orH : this.orL;
    s.tp_pips = p.k_tp * atr;
    s.sl_pips = p.k_sl * atr;
    s.trail_pips = p.k_tr > 0 ? p.k_tr * atr : 0;
    s.atr_pips = atr;
    // Read only by the micro-trend guards; NaN (never read) when both are off.
    s.micro_trend = p.min_micro_trend > 0 || p.tokyo_low_rv_micro_trend_min > 0 ? microTrend() : NaN;
    return true;
  }

  private breakout(h: number, l: number, c: number): Side | 0 {
    const close = this.p.require_close_breakout;
    if (h >= this.orH && (!close || c >= this.orH)) return 1;
    if (l <= this.orL && (!close || c <= this.orL)) return -1;
    return 0;
  }

  private retest(h: number, l: number, c: number, atrPips: () => number): Side | 0 {
    const p = this.p;
    if (!this.waiting && !this.seen) {
      const up = h >= this.orH;
      const down = l <= this.orL;
      if (!up && !down) return 0;
      let dir: Side;
      if (up && down) {
        if (c >= this.orH) dir = 1;
        else if (c <= this.orL) dir = -1;
        else dir = h - this.orH >= this.orL - l ? 1 : -1;
      } else dir = up ? 1 : -1;
      this.direction = dir;
      this.waiting = true;
      this.deadline = this.barIdx + p.retest_max_bars;
      return 0;
    }
    if (this.waiting) {
      const tol = p.retest_tol_k * atrPips() * this.pip;
      const retested = this.direction === 1 ? l <= this.orH + tol : h >= this.orL - tol;
      if (retested) {
        this.seen = true;
        this.waiting = false;
      } else if (this.barIdx >= this.deadline) {
        this.broken = true;
        this.waiting = false;
        this.direction = 0;
      }
      return 0;
    }
    const close = p.require_close_breakout;
    const dir = this.direction;
    const fires =
      dir === 1
        ? h >= this.orH && (!close || c >= this.orH)
        : dir === -1 && l <= this.orL && (!close || c <= this.orL);
    if (!fires) return 0;
    this.direction = 0;
    return dir as Side;
  }

  /** The strategy's gate (4.2): undefined when it passes. */
  gate(ctx: EntryContext): StrategyBlock | undefined {
    const p = this.p;
    const minOr = ctx.min_or_atr_ratio;
    if (minOr !== 0 && ctx.or_atr_ratio < minOr) return 'or_filter';
    if (ctx.rv_band === 'low') {
      if (!ctx.allow_low_rv) return 'rv_filter';
      const t = p.tokyo_low_rv_micro_trend_min;
      const mt = this.pending.micro_trend;
      if (t > 0 && (this.pending.side === 1 ? mt < t : mt > -t)) return 'rv_filter';
    }
    if (ctx.session === 'NY' && ctx.rv_band === 'high') {
      if (p.ny_high_rv_block) return 'ny_high_rv_block';
      const nyMin = p.ny_high_rv_min_or_atr_ratio ?? minOr * (p.ny_high_rv_or_multiplier ?? 0);
      if (nyMin !== 0 && ctx.or_atr_ratio < nyMin) return 'ny_high_rv_or_filter';
    }
    return undefined;
  }

  /**
   * The strategy's own checks before it emits an order (4.3).
   * @returns the order's quantity, or 0 when it emits none.
   */
  emit(ctx: EntryContext): number {
    const p = this.p;
    const s = this.pending;
    if (p.cooldown_bars > 0 && this.barIdx - this.lastSignalBar < p.cooldown_bars) return 0;
    if (!ctx.router_ok) return 0;
    if (p.max_signals_per_day !== 0 && this.signalsToday >= p.max_signals_per_day) return 0;
    if (p.max_loss_streak !== 0 && ctx.loss_streak >= p.max_loss_streak) return 0;
    if (
      p.max_daily_loss_pips > 0 &&
      ctx.daily_loss_pips < 0 &&
      Math.abs(ctx.daily_loss_pips) >= p.max_daily_loss_pips
    )
      return 0;
    if (p.max_daily_trade_count !== 0 && ctx.daily_trade_count >= p.max_daily_trade_count) return 0;
    let minAtr = p.min_atr_pips;
    let maxAtr = p.max_atr_pips;
    const bandMin = p.rv_band_min_atr_pips[ctx.rv_band];
    const bandMax = p.rv_band_max_atr_pips[ctx.rv_band];
    if (bandMin !== undefined) minAtr = Math.max(0, bandMin);
    if (bandMax !== undefined) maxAtr = Math.max(0, bandMax);
    if (minAtr !== 0 && s.atr_pips < minAtr) return 0;
    if (maxAtr !== 0 && s.atr_pips > maxAtr) return 0;
    if (
      p.min_micro_trend > 0 &&
      (s.side === 1 ? s.micro_trend < p.min_micro_trend : s.micro_trend > -p.min_micro_trend)
    )
      return 0;
    let qty: number;
    if (ctx.warmup_left > 0) {
      qty = warmupSize(ctx, s.sl_pips);
    } else {
      let prob: number;
      if (ctx.ev_mode === 'off') prob = Math.min(1, Math.max(0, p.fallback_win_rate));
      else if (ctx.ev_mode === 'lcb') {
        if (ctx.ev_lcb < ctx.threshold_lcb_pip) return 0;
        prob = ctx.p_lcb;
      } else {
        // The source runner raises here too: its pooled estimator has no mean probability.
        throw new BatonError(
          'E_INVALID_OPTION',
          "ev_mode 'mean' needs a mean win probability that the pooled estimator does not provide (the source runner aborts here too); use 'lcb' or 'off'",
        );
      }
      qty = productionSize(ctx, prob, s.tp_pips, s.sl_pips);
    }
    if (qty <= 0) return 0;
    this.lastSignalBar = this.barIdx;
    this.broken = true;
    this.signalsToday++;
    return qty;
  }
}
