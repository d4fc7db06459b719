// The resolved settings of one run: the strategy's parameters and the runner's configuration, each
// with the source runner's built-in defaults (docs/backtest.md lists them).

export type Session = 'TOK' | 'LDN' | 'NY';
export type SpreadBand = 'narrow' | 'normal' | 'wide';
export type RvBand = 'low' | 'mid' | 'high';
export type FillMode = 'conservative' | 'bridge';
export type EvMode = 'off' | 'lcb' | 'mean';
/** How a bar that reaches both the take-profit and the stop is settled. */
export type SameBarPolicy = 'sl_first' | 'tp_first' | 'probabilistic';
export type BandMap<B extends string> = Partial<Record<B, number>>;

export const SESSIONS: readonly Session[] = ['TOK', 'LDN', 'NY'];
export const SPREAD_BANDS: readonly SpreadBand[] = ['narrow', 'normal', 'wide'];
export const RV_BANDS: readonly RvBand[] = ['low', 'mid', 'high'];

/** The DayORB5m strategy's parameters (`strategy.parameters`). */
export interface StrategyParams {
  or_n: number;
  k_tp: number;
  k_sl: number;
  k_tr: number;
  cooldown_bars: number;
  require_close_breakout: boolean;
  require_retest: boolean;
  retest_max_bars: number;
  retest_tol_k: number;
  min_or_atr_ratio: number | undefined;
  rv_band_min_or_atr_ratio: BandMap<RvBand>;
  ny_high_rv_block: boolean;
  ny_high_rv_min_or_atr_ratio: number | undefined;
  ny_high_rv_or_multiplier: number | undefined;
  tokyo_low_rv_micro_trend_min: number;
  min_micro_trend: number;
  min_atr_pips: number;
  max_atr_pips: number;
  rv_band_min_atr_pips: BandMap<RvBand>;
  rv_band_max_atr_pips: BandMap<RvBand>;
  max_signals_per_day: number;
  fallback_win_rate: number;
  max_loss_streak: number;
  max_daily_loss_pips: number;
  max_daily_trade_count: number;
}

/** The runner's configuration (`runner.runner_config`, with `router` and `risk` applied over it). */
export interface RunnerConfig {
  threshold_lcb_pip: number;
  slip_cap_pip: number;
  min_or_atr_ratio: number;
  /** A runner-level floor per RV band that replaces `min_or_atr_ratio` in the entry context. */
  rv_band_min_or_atr_ratio: BandMap<RvBand>;
  rv_band_cuts: readonly [number, number];
  spread_bands: { narrow: number; normal: number };
  spread_input_mode: 'price' | 'pips' | 'pipettes';
  spread_scale: number | undefined;
  allow_low_rv: boolean;
  allowed_sessions: readonly string[];
  allowed_timeframes: readonly string[];
  prior_alpha: number;
  prior_beta: number;
  ev_decay: number;
  ev_conf: number;
  include_expected_slip: boolean;
  /** Intercept `b` of each band's slip curve (its slope `a` starts the learned table). */
  slip_curve: Record<SpreadBand, { a: number; b: number }>;
  slip_learn: boolean;
  slip_ewma_alpha: number;
  ev_mode: EvMode;
  size_floor_mult: number;
  warmup_trades: number;
  risk_per_trade_pct: number;
  kelly_fraction: number;
  units_cap: number;
  max_trade_loss_pct: number;
  fill_same_bar_policy_conservative: SameBarPolicy;
  fill_same_bar_policy_bridge: SameBarPolicy;
  fill_bridge_lambda: number;
  fill_bridge_drift_scale: number;
  max_hold_bars: number;
  pip_value_override: number | undefined;
  base_notional: number | undefined;
}

export const DEFAULT_STRATEGY: StrategyParams = {
  or_n: 6,
  k_tp: 1.0,
  k_sl: 0.8,
  k_tr: 0,
  cooldown_bars: 0,
  require_close_breakout: false,
  require_retest: false,
  retest_max_bars: 4,
  retest_tol_k: 0.2,
  min_or_atr_ratio: undefined,
  rv_band_min_or_atr_ratio: {},
  ny_high_rv_block: false,
  ny_high_rv_min_or_atr_ratio: undefined,
  ny_high_rv_or_multiplier: undefined,
  tokyo_low_rv_micro_trend_min: 0,
  min_micro_trend: 0,
  min_atr_pips: 4.0,
  max_atr_pips: 55.0,
  rv_band_min_atr_pips: {},
  rv_band_max_atr_pips: {},
  max_signals_per_day: 0,
  fallback_win_rate: 0.55,
  max_loss_streak: 0,
  max_daily_loss_pips: 0,
  max_daily_trade_count: 0,
};

export const DEFAULT_RUNNER: RunnerConfig = {
  threshold_lcb_pip: 0,
  slip_cap_pip: 1.5,
  min_or_atr_ratio: 0,
  rv_band_min_or_atr_ratio: {},
  rv_band_cuts: [0.005, 0.015],
  spread_bands: { narrow: 0.5, normal: 1.2 },
  spread_input_mode: 'price',
  spread_scale: undefined,
  allow_low_rv: false,
  allowed_sessions: ['LDN', 'NY'],
  allowed_timeframes: ['5m'],
  prior_alpha: 0,
  prior_beta: 0,
  ev_decay: 0.02,
  ev_conf: 0.95,
  include_expected_slip: false,
  slip_curve: { narrow: { a: 0.02, b: 0 }, normal: { a: 0.05, b: 0 }, wide: { a: 0.1, b: 0 } },
  slip_learn: true,
  slip_ewma_alpha: 0.1,
  ev_mode: 'lcb',
  size_floor_mult: 0.01,
  warmup_trades: 0,
  risk_per_trade_pct: 0.25,
  kelly_fraction: 0.25,
  units_cap: 5,
  max_trade_loss_pct: 0.5,
  fill_same_bar_policy_conservative: 'sl_first',
  fill_same_bar_policy_bridge: 'probabilistic',
  fill_bridge_lambda: 0.35,
  fill_bridge_drift_scale: 2.5,
  max_hold_bars: 96,
  pip_value_override: undefined,
  base_notional: undefined,
};

/** Everything one run needs besides its bars. */
export interface RunSettings {
  symbol: string;
  timeframe: string;
  mode: FillMode;
  /** Starting equity. */
  equity: number;
  strategy: StrategyParams;
  runner: RunnerConfig;
  manifestId: string;
}

/** Pip size: 0.01 for a symbol ending in JPY, else 0.0001. */
export function pipSize(symbol: string): number {
  return symbol.toUpperCase().endsWith('JPY') ? 0.01 : 0.0001;
}

/** Pip value per unit of quantity: the override, else base_notional × pip, else 10. */
export function pipValue(runner: RunnerConfig, pip: number): number {
  if (runner.pip_value_override !== undefined && runner.pip_value_override > 0)
    return runner.pip_value_override;
  if (runner.base_notional !== undefined && runner.base_notional > 0) return runner.base_notional * pip;
  return 10.0;
}
