// What a backtest run produces: headline metrics under the source's key names, trade records, the
// daily funnel, the gate counters, and the result that gathers them.
import type { ExitReason } from './fills.js';
import type { SpreadBand } from './config.js';
import type { RunState } from './state.js';

export interface TradeRecord {
  entry_ts: string;
  exit_ts: string;
  side: 'BUY' | 'SELL';
  entry_px: number;
  exit_px: number;
  reason: ExitReason;
  qty: number;
  pnl_pips: number;
  pnl_value: number;
  /** The win increment: 0 or 1, or the bridge probability. */
  win: number;
  prob: number | null;
  session: string;
  spread_band: SpreadBand;
  rv_band: string;
  ev_lcb: number;
  slip_est: number;
  slip_real: number;
  zscore: number | null;
}

export interface DailyRow {
  date: string;
  breakouts: number;
  gate_pass: number;
  gate_block: number;
  ev_pass: number;
  ev_reject: number;
  fills: number;
  wins: number;
  pnl_pips: number;
  pnl_value: number;
  slip_est: number;
  slip_real: number;
}

export interface Counters {
  no_breakout: number;
  gate_block: number;
  ev_reject: number;
  ev_bypass: number;
  zero_qty: number;
  orders: number;
  /** Valid bars that began with a position open: managed, not given to the strategy. */
  in_position_bars: number;
  session_parse_error: number;
  /** Bars that failed validation (1.3): ignored completely. */
  invalid_bars: number;
  resume_skipped_bars: number;
}

/** The headline figures of a run, under the source's key names (spec 8.1). */
export interface HeadlineMetrics {
  trades: number;
  wins: number;
  win_rate: number | null;
  total_pips: number;
  total_pnl_value: number;
  sharpe: number | null;
  max_drawdown: number | null;
}

/** The headline figures of a result, alone. */
export function headline(r: HeadlineMetrics): HeadlineMetrics {
  const { trades, wins, win_rate, total_pips, total_pnl_value, sharpe, max_drawdown } = r;
  return { trades, wins, win_rate, total_pips, total_pnl_value, sharpe, max_drawdown };
}

/** What a run computes. */
export interface RunResult extends HeadlineMetrics {
  equity_curve: [string, number][];
  /** Starting equity. */
  equity: number;
  records: TradeRecord[];
  daily: DailyRow[];
  counters: Counters;
  /** A position still open at the end of the data: not a trade, in no metric. */
  open_position: boolean;
  state: RunState;
  warnings: string[];
}

export function emptyDay(date: string): DailyRow {
  return {
    date,
    breakouts: 0,
    gate_pass: 0,
    gate_block: 0,
    ev_pass: 0,
    ev_reject: 0,
    fills: 0,
    wins: 0,
    pnl_pips: 0,
    pnl_value: 0,
    slip_est: 0,
    slip_real: 0,
  };
}
