// state.json (spec section 9): what a run leaves for the next one to resume from, refused when the
// settings its estimators depend on (the config fingerprint) have changed.
import { BatonError } from '@baton/core';
import { BUCKET_KEYS } from './ev.js';
import { Position } from './fills.js';
import { SPREAD_BANDS, type Session, type SpreadBand } from './config.js';
import type { Run } from './runner.js';
import { emptyDay, type DailyRow } from './results.js';

export interface RunState {
  meta: { symbol: string; config_fingerprint?: string; last_timestamp?: string | null };
  ev_global: {
    alpha: number;
    beta: number;
    prior_alpha: number;
    prior_beta: number;
    decay: number;
    conf: number;
  };
  ev_buckets: Record<string, { alpha: number; beta: number }>;
  slip: {
    a: Record<SpreadBand, number>;
    curve: Record<SpreadBand, { a: number; b: number }>;
    ewma_alpha: number;
    ewma: Record<SpreadBand, number>;
  };
  rv_thresh: null;
  runtime: {
    warmup_left: number;
    day_count: number;
    current_date: string | null;
    last_session: Session | null;
    _equity_live: number;
  };
  metrics: {
    trades: number;
    wins: number;
    total_pips: number;
    total_pnl_value: number;
    trade_returns: number[];
    equity_curve: [string, number][];
    equity_seed?: number;
    daily: Record<string, Omit<DailyRow, 'date'>>;
  };
  position?: {
    side: 'BUY' | 'SELL';
    entry_px: number;
    tp_px: number;
    sl_px: number;
    trail_pips: number;
    qty: number;
    hh: number;
    ll: number;
    hold: number;
    entry_ts: string;
    zscore: number | null;
    entry_key: string;
    spread_pips: number;
    spread_band: SpreadBand;
    slip_real: number;
    ev_lcb: number;
  };
}

export function snapshotState(run: Run, fingerprint: string): RunState {
  const r = run.s.runner;
  const buckets: RunState['ev_buckets'] = {};
  for (const [key, b] of [...run.ev.buckets].sort(([a], [b]) => (a < b ? -1 : 1))) buckets[key] = { ...b };
  const daily: RunState['metrics']['daily'] = {};
  for (const { date, ...row } of run.daily.values()) daily[date] = row;
  const p = run.position;
  return {
    meta: { symbol: run.s.symbol, config_fingerprint: fingerprint, last_timestamp: run.lastTs ?? null },
    ev_global: {
      ...run.ev.global,
      prior_alpha: r.prior_alpha,
      prior_beta: r.prior_beta,
      decay: r.ev_decay,
      conf: r.ev_conf,
    },
    ev_buckets: buckets,
    slip: {
      a: { ...run.slipA },
      curve: r.slip_curve,
      ewma_alpha: r.slip_ewma_alpha,
      ewma: { ...run.qtyEwma },
    },
    rv_thresh: null,
    runtime: {
      warmup_left: run.warmupLeft,
      day_count: run.dayCount,
      current_date: run.currentDate ?? null,
      last_session: run.lastSession ?? null,
      _equity_live: run.equityLive,
    },
    metrics: {
      trades: run.returns.length,
      wins: run.wins,
      total_pips: run.totalPips,
      total_pnl_value: run.totalValue,
      trade_returns: [...run.returns],
      equity_curve: [...run.curve],
      equity_seed: run.equitySeed ?? run.equityStart,
      daily,
    },
    ...(p && {
      position: {
        side: p.side === 1 ? 'BUY' : 'SELL',
        entry_px: p.entryPx,
        tp_px: p.tpPx,
        sl_px: p.slPx,
        trail_pips: p.trailPips,
        qty: p.qty,
        hh: p.hh,
        ll: p.ll,
        hold: p.hold,
        entry_ts: p.entryTs,
        zscore: p.zscore === p.zscore ? p.zscore : null,
        entry_key: BUCKET_KEYS[p.bucket]!,
        spread_pips: p.spreadPips,
        spread_band: p.band,
        slip_real: p.slipActual,
        ev_lcb: p.evLcb,
      },
    }),
  };
}

/**
 * Re-applies a state to a fresh run. Returns a warning (and applies nothing) when the state's
 * fingerprint is present and differs from the run's.
 */
export function applyState(run: Run, state: RunState, fingerprint: string): string | undefined {
  const theirs = state.meta?.config_fingerprint;
  if (theirs !== undefined && theirs !== fingerprint) {
    return `state refused: its config fingerprint ${theirs} differs from this run's ${fingerprint} (or_n, min_or_atr_ratio, threshold_lcb_pip, rv_band_cuts, EV decay or confidence changed)`;
  }
  run.ev.global.alpha = state.ev_global.alpha;
  run.ev.global.beta = state.ev_global.beta;
  for (const [key, b] of Object.entries(state.ev_buckets ?? {})) run.ev.restore(key, b);
  for (const band of SPREAD_BANDS) {
    if (typeof state.slip?.a?.[band] === 'number') run.slipA[band] = state.slip.a[band];
    if (typeof state.slip?.ewma?.[band] === 'number') run.qtyEwma[band] = state.slip.ewma[band];
  }
  const rt = state.runtime;
  run.warmupLeft = rt.warmup_left;
  run.dayCount = rt.day_count;
  run.currentDate = rt.current_date ?? undefined;
  run.lastSession = rt.last_session ?? undefined;
  run.equityLive = run.equityStart = rt._equity_live;
  const m = state.metrics;
  run.equitySeed = m.equity_seed;
  run.wins = m.wins;
  run.totalPips = m.total_pips;
  run.totalValue = m.total_pnl_value;
  run.returns.push(...m.trade_returns);
  run.curve.push(...m.equity_curve);
  for (const [date, row] of Object.entries(m.daily ?? {})) run.daily.set(date, { date, ...row });
  if (run.currentDate !== undefined) {
    let row = run.daily.get(run.currentDate);
    if (row === undefined) run.daily.set(run.currentDate, (row = emptyDay(run.currentDate)));
    run.today = row;
  }
  const p = state.position;
  if (p) {
    const pos = new Position(
      p.side === 'BUY' ? 1 : -1,
      p.entry_px,
      p.tp_px,
      p.sl_px,
      p.trail_pips,
      p.qty,
      p.hh,
      p.ll,
      p.entry_ts,
      p.zscore ?? NaN,
      entryBucket(p.entry_key),
      p.spread_pips,
      p.spread_band,
      p.slip_real,
      p.ev_lcb,
    );
    pos.hold = p.hold;
    run.position = pos;
  }
  return undefined;
}

function entryBucket(key: string): number {
  const index = BUCKET_KEYS.indexOf(key);
  if (index < 0) {
    throw new BatonError(
      'E_INPUT_INVALID',
      `state.json: position.entry_key '${key}' is not SESSION:SPREADBAND:RVBAND (e.g. LDN:narrow:mid)`,
    );
  }
  return index;
}
