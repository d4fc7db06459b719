// The bar loop of one backtest (spec section 2): validation, sessions and days, position management,
// the strategy, the gate chain (section 5), fills, and each trade's finalisation (7.5).
import type { Bars } from './bars.js';
import { parseTimestamp, formatMicros } from './bars.js';
import { pipSize, pipValue, type RunSettings, type Session, type SpreadBand } from './config.js';
import { BUCKET_KEYS, bucketIndex, EvEstimators, type BucketIndex } from './ev.js';
import {
  atr14,
  microTrend,
  rv12,
  rvBand,
  sessionOf,
  spreadBand,
  spreadPips,
  utcHour,
  validBars,
} from './features.js';
import { enterOnBar, Position, type Exit, type FillRules } from './fills.js';
import { maxDrawdown, sharpe } from './metrics.js';
import { DayOrbStrategy, type EntryContext } from './strategy.js';
import { floorSize, productionSize } from './sizing.js';
import { configFingerprint } from './fingerprint.js';
import { applyState, snapshotState, type RunState } from './state.js';
import { emptyDay, type Counters, type DailyRow, type RunResult, type TradeRecord } from './results.js';

export interface RunOptions {
  /** A state to resume from (state.json of an earlier run); refused when its fingerprint differs. */
  resume?: RunState;
  /** Called every `progressEvery` valid bars with (done, total). */
  onProgress?: (done: number, total: number) => void;
  progressEvery?: number;
}

/** Runs the Day ORB strategy over `bars`. Deterministic: the same bars and settings give the same result. */
export function runBacktest(bars: Bars, settings: RunSettings, options: RunOptions = {}): RunResult {
  return new Run(bars, settings).run(options);
}

class Run {
  readonly pip: number;
  readonly pipValue: number;
  readonly rules: FillRules;
  readonly strategy: DayOrbStrategy;
  readonly ev: EvEstimators;
  readonly slipA: Record<SpreadBand, number>;
  readonly qtyEwma: Record<SpreadBand, number> = { narrow: 0, normal: 0, wide: 0 };
  readonly counters: Counters = {
    no_breakout: 0,
    gate_block: 0,
    ev_reject: 0,
    ev_bypass: 0,
    zero_qty: 0,
    orders: 0,
    in_position_bars: 0,
    session_parse_error: 0,
    invalid_bars: 0,
    resume_skipped_bars: 0,
  };
  readonly daily = new Map<string, DailyRow>();
  readonly records: TradeRecord[] = [];
  readonly returns: number[] = [];
  readonly curve: [string, number][] = [];
  readonly warnings: string[] = [];
  equityStart: number;
  equityLive: number;
  wins = 0;
  totalPips = 0;
  totalValue = 0;
  lossStreak = 0;
  dailyLoss = 0;
  dailyTrades = 0;
  dailyPnl = 0;
  warmupLeft: number;
  dayCount = 0;
  currentDate: string | undefined;
  lastSession: Session | undefined;
  lastTs: string | undefined;
  position: Position | undefined;
  today!: DailyRow;
  readonly ctx: EntryContext;
  private readonly exit: Exit = { price: 0, reason: 'sl', prob: NaN };
  private readonly fill = { price: 0 };

  constructor(
    readonly bars: Bars,
    readonly s: RunSettings,
  ) {
    const r = s.runner;
    this.pip = pipSize(s.symbol);
    this.pipValue = pipValue(r, this.pip);
    this.rules = {
      pip: this.pip,
      policy: s.mode === 'bridge' ? r.fill_same_bar_policy_bridge : r.fill_same_bar_policy_conservative,
      lambda: r.fill_bridge_lambda,
      driftScale: r.fill_bridge_drift_scale,
      slipCapPips: r.slip_cap_pip,
      maxHoldBars: r.max_hold_bars,
    };
    this.strategy = new DayOrbStrategy(s.strategy, this.pip);
    this.ev = new EvEstimators(r.ev_decay, r.ev_conf, r.prior_alpha, r.prior_beta);
    this.slipA = { narrow: r.slip_curve.narrow.a, normal: r.slip_curve.normal.a, wide: r.slip_curve.wide.a };
    this.equityStart = this.equityLive = s.equity;
    this.warmupLeft = Math.max(0, r.warmup_trades);
    this.ctx = {
      session: 'TOK',
      rv_band: 'low',
      or_atr_ratio: 0,
      min_or_atr_ratio: r.min_or_atr_ratio,
      allow_low_rv: r.allow_low_rv,
      threshold_lcb_pip: -Infinity,
      ev_mode: r.ev_mode,
      ev_lcb: 0,
      p_lcb: 0,
      warmup_left: 0,
      loss_streak: 0,
      daily_loss_pips: 0,
      daily_trade_count: 0,
      router_ok: false,
      equity: s.equity,
      pip_value: this.pipValue,
      risk_per_trade_pct: r.risk_per_trade_pct,
      kelly_fraction: r.kelly_fraction,
      units_cap: r.units_cap,
      max_trade_loss_pct: r.max_trade_loss_pct,
      size_floor_mult: r.size_floor_mult,
    };
  }

  run(options: RunOptions): RunResult {
    const b = this.bars;
    const allowed = this.s.runner.allowed_timeframes;
    let from = 0;
    if (options.resume) from = this.resume(options.resume);
    // Validation (1.3) depends on the bar alone, so the valid bars are gathered first.
    const idx = new Int32Array(b.length - from);
    let n = 0;
    let lastTf = '';
    let lastTfOk = false;
    for (let i = from; i < b.length; i++) {
      const tf = b.tf[i]!;
      if (tf !== lastTf) {
        lastTf = tf;
        lastTfOk = allowed.includes(tf.trim().toLowerCase());
      }
      const o = b.o[i]!,
        h = b.h[i]!,
        l = b.l[i]!,
        c = b.c[i]!;
      if (lastTfOk && l <= Math.min(o, c) && h >= Math.max(o, c) && l <= h) idx[n++] = i;
      else this.counters.invalid_bars++;
    }
    // Usually every bar is valid: the columns are then used as they are, not copied.
    const all = n === b.length;
    const pick = (a: Float64Array) => {
      if (all) return a;
      const out = new Float64Array(n);
      for (let k = 0; k < n; k++) out[k] = a[idx[k]!]!;
      return out;
    };
    const vb = validBars(pick(b.o), pick(b.h), pick(b.l), pick(b.c), pick(b.spread));
    const orN = this.s.strategy.or_n;
    const every = options.progressEvery ?? 65_536;
    let sessStart = 0;
    let orK = -1;
    let orHigh = NaN;
    let orLow = NaN;
    let k = 0;
    const atrPips = () => {
      const a = atr14(vb, k);
      return (a === a ? a : 0) / this.pip;
    };
    const micro = () => microTrend(vb, k);
    for (; k < n; k++) {
      const ts = b.ts[idx[k]!]!;
      this.lastTs = ts;
      if (options.onProgress && k % every === 0) options.onProgress(k, n);
      const hour = utcHour(ts);
      if (hour < 0) this.counters.session_parse_error++;
      const session = sessionOf(hour < 0 ? 0 : hour);
      const newSession = this.lastSession === undefined || session !== this.lastSession;
      this.lastSession = session;
      if (this.currentDate === undefined || !sameDate(ts, this.currentDate)) this.newDay(ts.slice(0, 10));
      if (newSession) sessStart = k;
      const o = vb.o[k]!,
        h = vb.h[k]!,
        l = vb.l[k]!,
        c = vb.c[k]!;
      if (this.position) {
        this.counters.in_position_bars++;
        if (this.position.step(o, h, l, c, newSession, this.rules, this.exit)) {
          const p = this.position;
          this.position = undefined;
          this.finalise(p, ts, this.exit);
        }
        continue;
      }
      const sessionBars = k - sessStart + 1;
      if (sessionBars >= orN && orK !== sessStart) {
        orK = sessStart;
        orHigh = -Infinity;
        orLow = Infinity;
        for (let j = sessStart; j < sessStart + orN; j++) {
          if (vb.h[j]! > orHigh) orHigh = vb.h[j]!;
          if (vb.l[j]! < orLow) orLow = vb.l[j]!;
        }
      }
      const haveOr = sessionBars >= orN;
      const hasSignal = this.strategy.update(
        h,
        l,
        c,
        newSession,
        sessionBars,
        haveOr ? orHigh : NaN,
        haveOr ? orLow : NaN,
        atrPips,
        micro,
      );
      if (!hasSignal) {
        this.counters.no_breakout++;
        continue;
      }
      this.attempt(vb, k, session, haveOr ? orHigh - orLow : NaN, idx[k]!, ts);
    }
    return this.result();
  }

  private newDay(date: string): void {
    this.currentDate = date;
    this.dailyLoss = this.dailyTrades = this.dailyPnl = 0;
    this.dayCount++;
    let row = this.daily.get(date);
    if (row === undefined) this.daily.set(date, (row = emptyDay(date)));
    this.today = row;
  }

  private block(): void {
    this.counters.gate_block++;
    this.today.gate_block++;
  }

  /** The gate chain (section 5) for the pending signal on valid bar k, then the fill. */
  private attempt(
    vb: ReturnType<typeof validBars>,
    k: number,
    session: Session,
    orRange: number,
    bar: number,
    ts: string,
  ): void {
    const r = this.s.runner;
    const sig = this.strategy.pending;
    const ctx = this.ctx;
    const atr = atr14(vb, k);
    const rv = rv12(vb, k);
    const band = rvBand(rv, r.rv_band_cuts);
    const spip = spreadPips(vb.spread[k]!, this.pip, r);
    const sband = spreadBand(spip, r);
    const q = this.qtyEwma[sband] > 0 ? this.qtyEwma[sband] : 1.0;
    const expectedSlip = r.include_expected_slip
      ? Math.max(0, this.slipA[sband] * q + r.slip_curve[sband].b)
      : 0;
    const cost = spip + expectedSlip;
    ctx.session = session;
    ctx.rv_band = band;
    ctx.or_atr_ratio = orRange === orRange && atr > 0 ? orRange / atr : 0;
    ctx.min_or_atr_ratio = r.rv_band_min_or_atr_ratio[band] ?? r.min_or_atr_ratio;
    ctx.warmup_left = this.warmupLeft;
    ctx.equity = this.equityLive;
    ctx.loss_streak = this.lossStreak;
    ctx.daily_loss_pips = this.dailyLoss;
    ctx.daily_trade_count = this.dailyTrades;
    ctx.router_ok = r.allowed_sessions.includes(session) && sband !== 'wide';

    if (this.strategy.gate(ctx) !== undefined) return this.block();
    if (!ctx.router_ok) return this.block();

    const bucket = bucketIndex(session, sband, band);
    let bypass = false;
    if (r.ev_mode === 'off') {
      // The gate cannot reject: the bound is computed for the trade record only, once an order is out.
      this.ev.touch(bucket);
      ctx.threshold_lcb_pip = -Infinity;
    } else {
      this.evaluate(bucket, cost);
      ctx.threshold_lcb_pip = this.adjustedThreshold(ctx.or_atr_ratio);
      if (ctx.ev_lcb < ctx.threshold_lcb_pip) {
        if (this.warmupLeft > 0) {
          bypass = true;
          this.counters.ev_bypass++;
        } else {
          this.counters.ev_reject++;
          this.today.ev_reject++;
          return;
        }
      }
    }
    if (expectedSlip > r.slip_cap_pip) return this.block();
    let gateQty: number;
    if (!bypass && r.ev_mode !== 'off') gateQty = productionSize(ctx, ctx.p_lcb, sig.tp_pips, sig.sl_pips);
    else {
      const p = Math.min(1, Math.max(0, this.s.strategy.fallback_win_rate));
      gateQty = productionSize(ctx, p, sig.tp_pips, sig.sl_pips);
      if (gateQty <= 0) gateQty = floorSize(ctx, sig.sl_pips);
    }
    if (gateQty <= 0) {
      this.counters.zero_qty++;
      return;
    }
    const qty = this.strategy.emit(ctx);
    if (qty <= 0) return this.block();
    if (r.ev_mode === 'off') this.evaluate(bucket, cost);

    this.counters.orders++;
    this.today.breakouts++;
    this.fillOrder(vb, k, qty, sband, spip, bucket, ctx.ev_lcb, bar, ts);
    if (this.warmupLeft > 0) this.warmupLeft--;
    this.today.gate_pass++;
    if (!bypass) this.today.ev_pass++;
  }

  /** The pooled win-rate bound and EV bound of the pending signal, into the entry context. */
  private evaluate(bucket: BucketIndex, cost: number): void {
    const ctx = this.ctx;
    const sig = this.strategy.pending;
    ctx.p_lcb = this.ev.pooledLcb(bucket);
    ctx.ev_lcb = ctx.p_lcb * sig.tp_pips - (1 - ctx.p_lcb) * sig.sl_pips - cost;
  }

  /** The strategy-adjusted EV threshold (5.3) for ev_mode lcb or mean. */
  private adjustedThreshold(ratio: number): number {
    const base = this.s.runner.threshold_lcb_pip;
    const minOr = this.s.strategy.min_or_atr_ratio ?? this.ctx.min_or_atr_ratio;
    if (minOr !== 0 && ratio >= 1.5 * minOr) return Math.max(0, base - 0.1);
    if (minOr !== 0 && ratio < minOr + 0.05) return base + 0.1;
    return base;
  }

  private fillOrder(
    vb: ReturnType<typeof validBars>,
    k: number,
    qty: number,
    sband: SpreadBand,
    spip: number,
    bucket: BucketIndex,
    evLcb: number,
    bar: number,
    ts: string,
  ): void {
    const sig = this.strategy.pending;
    const r = this.s.runner;
    const o = vb.o[k]!,
      h = vb.h[k]!,
      l = vb.l[k]!,
      c = vb.c[k]!;
    const result = enterOnBar(
      sig.side,
      sig.entry,
      sig.tp_pips,
      sig.sl_pips,
      sig.trail_pips,
      o,
      h,
      l,
      c,
      this.rules,
      this.fill,
      this.exit,
    );
    if (result === 'no_fill') return;
    const fill = this.fill.price;
    const slipActual = Math.abs(fill - sig.entry) / this.pip;
    if (r.include_expected_slip && r.slip_learn) {
      const a = r.slip_ewma_alpha;
      const sample = slipActual / Math.max(qty, 1e-9);
      this.slipA[sband] = (1 - a) * this.slipA[sband] + a * sample;
      this.qtyEwma[sband] = (1 - a) * this.qtyEwma[sband] + a * qty;
    }
    const d = sig.side;
    const pip = this.pip;
    const z = this.bars.zscore[bar]!;
    const position = new Position(
      d,
      fill,
      fill + d * sig.tp_pips * pip,
      fill - d * sig.sl_pips * pip,
      sig.trail_pips,
      qty,
      h,
      l,
      ts,
      z,
      bucket,
      spip,
      sband,
      slipActual,
      evLcb,
    );
    if (result === 'exit') this.finalise(position, ts, this.exit);
    else this.position = position;
  }

  /** A closed trade (7.5). */
  private finalise(p: Position, exitTs: string, exit: Exit): void {
    const r = this.s.runner;
    const estSlip = r.include_expected_slip
      ? Math.max(0, this.slipA[p.band] * p.qty + r.slip_curve[p.band].b)
      : 0;
    const cost = p.spreadPips + estSlip;
    const unit = ((exit.price - p.entryPx) * p.side) / this.pip - cost;
    const pnlPips = unit * p.qty;
    const pnlValue = unit * this.pipValue * p.qty;
    const hit = exit.reason === 'tp' || (exit.reason === 'trail' && pnlPips > 1e-9);
    const inc = exit.prob === exit.prob ? exit.prob : hit ? 1 : 0;
    this.equityLive += pnlValue;
    this.wins += inc;
    this.totalPips += pnlPips;
    this.totalValue += pnlValue;
    this.returns.push(pnlValue);
    const at = parseTimestamp(exitTs);
    if (this.curve.length === 0) {
      this.curve.push([at === undefined ? exitTs : formatMicros(at - 1), this.equityStart]);
    }
    this.curve.push([at === undefined ? exitTs : formatMicros(at), this.equityLive]);
    const day = this.today;
    day.fills++;
    if (inc !== 0) day.wins += inc;
    day.pnl_pips += pnlPips;
    day.pnl_value += pnlValue;
    day.slip_est += estSlip;
    day.slip_real += p.slipActual;
    this.dailyTrades++;
    this.dailyPnl += pnlPips;
    if (pnlPips <= 0) {
      this.lossStreak++;
      if (pnlPips < 0) this.dailyLoss += pnlPips;
    } else this.lossStreak = 0;
    this.ev.update(p.bucket, inc);
    const [session, , rv] = BUCKET_KEYS[p.bucket]!.split(':');
    this.records.push({
      entry_ts: p.entryTs,
      exit_ts: exitTs,
      side: p.side === 1 ? 'BUY' : 'SELL',
      entry_px: p.entryPx,
      exit_px: exit.price,
      reason: exit.reason,
      qty: p.qty,
      pnl_pips: pnlPips,
      pnl_value: pnlValue,
      win: inc,
      prob: exit.prob === exit.prob ? exit.prob : null,
      session: session!,
      spread_band: p.band,
      rv_band: rv!,
      ev_lcb: p.evLcb,
      slip_est: estSlip,
      slip_real: p.slipActual,
      zscore: p.zscore === p.zscore ? p.zscore : null,
    });
  }

  private resume(state: RunState): number {
    const fingerprint = configFingerprint(this.s);
    const warning = applyState(this, state, fingerprint);
    if (warning) {
      this.warnings.push(warning);
      return 0;
    }
    const last = state.meta.last_timestamp;
    if (last === undefined || last === null) return 0;
    const lastAt = parseTimestamp(last);
    let i = 0;
    for (; i < this.bars.length; i++) {
      const ts = this.bars.ts[i]!;
      const at = parseTimestamp(ts);
      const before = lastAt !== undefined && at !== undefined ? at <= lastAt : ts <= last;
      if (!before) break;
      this.counters.resume_skipped_bars++;
    }
    return i;
  }

  private result(): RunResult {
    const trades = this.returns.length;
    const daily = [...this.daily.values()].sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
    return {
      trades,
      wins: this.wins,
      win_rate: trades === 0 ? null : this.wins / trades,
      total_pips: this.totalPips,
      total_pnl_value: this.totalValue,
      sharpe: sharpe(this.returns),
      max_drawdown: maxDrawdown(this.equitySeed ?? this.equityStart, this.returns),
      equity_curve: this.curve,
      equity: this.equityStart,
      records: this.records,
      daily,
      counters: this.counters,
      open_position: this.position !== undefined,
      state: snapshotState(this, configFingerprint(this.s)),
      warnings: this.warnings,
    };
  }

  /** The starting equity of the first run of a resumed series (drawdowns span the series). */
  equitySeed: number | undefined;
}

/** True when `ts` falls on date key `date` (its first 10 characters). */
function sameDate(ts: string, date: string): boolean {
  return date.length === Math.min(10, ts.length) && ts.startsWith(date);
}

export type { Run };
