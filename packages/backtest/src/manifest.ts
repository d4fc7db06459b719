// Strategy manifests in the source system's YAML format (meta, strategy, router, risk, features,
// runner, state), validated with file:line:col by @baton/flows, and turned into a run's settings.
import { z } from 'zod';
import { BatonError } from '@baton/core';
import { loadYamlDocument, type LoadedDocument } from '@baton/flows';
import {
  DEFAULT_RUNNER,
  DEFAULT_STRATEGY,
  RV_BANDS,
  type FillMode,
  type RunSettings,
  type RunnerConfig,
  type StrategyParams,
} from './config.js';

const bandMap = z.strictObject({
  low: z.number().optional(),
  mid: z.number().optional(),
  high: z.number().optional(),
});
const sessions = z.union([z.array(z.string()), z.string()]);
const policy = z.enum(['sl_first', 'tp_first', 'probabilistic']);

// Typed where the runner reads a key; any other parameter is passed through verbatim, as the source does.
const parameters = z.looseObject({
  or_n: z.int().min(1).optional(),
  k_tp: z.number().min(0).optional(),
  k_sl: z.number().positive().optional(),
  k_tr: z.number().min(0).optional(),
  cooldown_bars: z.int().min(0).optional(),
  require_close_breakout: z.boolean().optional(),
  require_retest: z.boolean().optional(),
  retest_max_bars: z.int().min(0).optional(),
  retest_tol_k: z.number().min(0).optional(),
  min_or_atr_ratio: z.number().min(0).optional(),
  rv_band_min_or_atr_ratio: bandMap.optional(),
  ny_high_rv_block: z.boolean().optional(),
  ny_high_rv_min_or_atr_ratio: z.number().min(0).optional(),
  ny_high_rv_or_multiplier: z.number().min(0).optional(),
  tokyo_low_rv_micro_trend_min: z.number().optional(),
  min_micro_trend: z.number().optional(),
  min_atr_pips: z.number().min(0).optional(),
  max_atr_pips: z.number().min(0).optional(),
  rv_band_min_atr_pips: bandMap.optional(),
  rv_band_max_atr_pips: bandMap.optional(),
  max_signals_per_day: z.int().min(0).optional(),
  fallback_win_rate: z.number().optional(),
  max_loss_streak: z.int().min(0).optional(),
  max_daily_loss_pips: z.number().min(0).optional(),
  max_daily_trade_count: z.int().min(0).optional(),
});

const runnerConfig = z.looseObject({
  threshold_lcb_pip: z.number().optional(),
  slip_cap_pip: z.number().min(0).optional(),
  min_or_atr_ratio: z.number().min(0).optional(),
  rv_band_min_or_atr_ratio: bandMap.optional(),
  rv_band_cuts: z.tuple([z.number(), z.number()]).optional(),
  spread_bands: z.strictObject({ narrow: z.number(), normal: z.number() }).optional(),
  spread_input_mode: z.enum(['price', 'pips', 'pipettes']).optional(),
  spread_scale: z.number().optional(),
  allow_low_rv: z.boolean().optional(),
  allowed_sessions: sessions.optional(),
  prior_alpha: z.number().min(0).optional(),
  prior_beta: z.number().min(0).optional(),
  ev_decay: z.number().min(0).max(1).optional(),
  include_expected_slip: z.boolean().optional(),
  slip_curve: z
    .record(z.enum(['narrow', 'normal', 'wide']), z.strictObject({ a: z.number(), b: z.number() }))
    .optional(),
  slip_learn: z.boolean().optional(),
  slip_ewma_alpha: z.number().min(0).max(1).optional(),
  rv_qcalib_enabled: z.boolean().optional(),
  calibrate_days: z.int().min(0).optional(),
  ev_mode: z.enum(['off', 'lcb', 'mean']).optional(),
  size_floor_mult: z.number().min(0).optional(),
  warmup_trades: z.int().min(0).optional(),
  fill_same_bar_policy_conservative: policy.optional(),
  fill_same_bar_policy_bridge: policy.optional(),
  fill_bridge_lambda: z.number().optional(),
  fill_bridge_drift_scale: z.number().optional(),
  max_hold_bars: z.int().min(1).optional(),
  pip_value_override: z.number().optional(),
  base_notional: z.number().optional(),
});

/** The names `runner.runner_config` may hold that the runner reads (spec section 10.4, and 10.1). */
const RUNNER_KEYS = new Set([
  ...Object.keys(runnerConfig.shape),
  'rv_q_low',
  'rv_q_high',
  'rv_q_lookback_bars',
  'ny_high_rv_min_or_atr_ratio',
  'ny_high_rv_or_multiplier',
]);

export const manifestSchema = z.strictObject({
  meta: z.strictObject({
    id: z.string().min(1),
    name: z.string().optional(),
    version: z.union([z.string(), z.number()]).optional(),
    category: z.string().optional(),
    tags: z.array(z.string()).optional(),
    description: z.string().optional(),
  }),
  strategy: z.strictObject({
    class_path: z.string().optional(),
    id: z.string().optional(),
    instruments: z
      .array(
        z.strictObject({
          symbol: z.string().min(1),
          timeframe: z.string().min(1),
          mode: z.string().optional(),
        }),
      )
      .min(1),
    parameters: parameters.default({}),
  }),
  router: z
    .looseObject({
      allowed_sessions: sessions.optional(),
      allow_spread_bands: z.array(z.string()).optional(),
      allow_rv_bands: z.array(z.string()).optional(),
    })
    .optional(),
  risk: z
    .looseObject({
      risk_per_trade_pct: z.number().min(0).optional(),
      warmup_trades: z.int().min(0).optional(),
      max_daily_dd_pct: z.number().optional(),
      notional_cap: z.number().optional(),
      max_concurrent_positions: z.int().optional(),
    })
    .optional(),
  features: z.looseObject({}).optional(),
  runner: z
    .looseObject({
      runner_config: runnerConfig.optional(),
      cli_args: z
        .looseObject({
          equity: z.number().positive().optional(),
          auto_state: z.boolean().optional(),
          use_ev_profile: z.boolean().optional(),
          ev_profile: z.string().nullable().optional(),
        })
        .optional(),
    })
    .optional(),
  state: z.looseObject({ ev_profile: z.string().nullable().optional() }).optional(),
  notes: z.array(z.string()).optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;

/** A loaded manifest, its file and its warnings. */
export type LoadedManifest = LoadedDocument<Manifest>;

/**
 * Reads and validates a strategy manifest.
 *
 * @throws ConfigError (`E_CONFIG_INVALID`) with file:line:col for each problem.
 */
export function loadManifest(file: string): LoadedManifest {
  return withRunnerWarnings(loadYamlDocument(file, manifestSchema));
}

/** {@link loadManifest} of text already read from `file` (named in diagnostics). */
export function loadManifestText(file: string, text: string): LoadedManifest {
  return withRunnerWarnings(loadYamlDocument(file, manifestSchema, { text }));
}

// runner_config keys the runner does not read are stored, as the source does, with a warning.
function withRunnerWarnings(doc: LoadedDocument<Manifest>): LoadedManifest {
  const warnings = [...doc.warnings];
  const rc = doc.value.runner?.runner_config ?? {};
  for (const key of Object.keys(rc)) {
    if (RUNNER_KEYS.has(key)) continue;
    const at = doc.locate(`runner.runner_config.${key}`) ?? { file: doc.file, line: 1, col: 1 };
    warnings.push({
      severity: 'warning',
      ...at,
      path: `runner.runner_config.${key}`,
      message: `'${key}' is stored but not read by the runner`,
    });
  }
  return { ...doc, warnings };
}

/** What a command line may override. */
export interface RunChoice {
  mode?: FillMode;
  symbol?: string;
  equity?: number;
  /** Strategy parameters to set over the manifest's (a sweep's grid point). */
  overrides?: Readonly<Record<string, number | boolean>>;
}

/**
 * A run's settings from a manifest (spec section 0): the instrument chosen by mode and symbol,
 * strategy parameters, runner configuration with `router` and `risk` applied, starting equity.
 *
 * @throws BatonError `E_INVALID_OPTION` when no instrument (or more than one) matches, or the
 *   manifest asks for a part of the source runner that Baton does not implement.
 */
export function runSettings(manifest: Manifest, choice: RunChoice = {}): RunSettings {
  const instruments = manifest.strategy.instruments;
  let chosen = instruments[0]!;
  if (choice.mode !== undefined || choice.symbol !== undefined) {
    const matches = instruments.filter(
      (i) =>
        (choice.mode === undefined || (i.mode ?? 'conservative').toLowerCase() === choice.mode) &&
        (choice.symbol === undefined || i.symbol.toUpperCase() === choice.symbol.toUpperCase()),
    );
    const wanted = [choice.symbol, choice.mode].filter(Boolean).join(' ');
    const listed = instruments.map((i) => `${i.symbol} ${i.mode ?? 'conservative'}`).join(', ');
    if (matches.length !== 1) {
      throw new BatonError(
        'E_INVALID_OPTION',
        `${matches.length ? 'more than one' : 'no'} instrument of manifest '${manifest.meta.id}' matches ${wanted} (it has: ${listed})`,
      );
    }
    chosen = matches[0]!;
  }
  const mode = (chosen.mode ?? 'conservative').toLowerCase();
  if (mode !== 'conservative' && mode !== 'bridge') {
    throw new BatonError(
      'E_INVALID_OPTION',
      `instrument mode '${chosen.mode}' is not conservative or bridge`,
    );
  }
  const params = { ...manifest.strategy.parameters, ...choice.overrides } as Record<string, unknown>;
  if (choice.overrides) checkOverrides(params, Object.keys(choice.overrides));
  const strategy = withDefaults(DEFAULT_STRATEGY, params) as StrategyParams;
  const rc = (manifest.runner?.runner_config ?? {}) as Record<string, unknown>;
  refuseUnsupported(manifest, rc);
  const runner = withDefaults(DEFAULT_RUNNER, rc) as RunnerConfig;
  if (rc.slip_curve) runner.slip_curve = { ...DEFAULT_RUNNER.slip_curve, ...(rc.slip_curve as object) };
  runner.allowed_timeframes = [...new Set(instruments.map((i) => i.timeframe.toLowerCase()))];
  const routerSessions = sessionList(manifest.router?.allowed_sessions);
  runner.allowed_sessions = routerSessions.length
    ? routerSessions
    : sessionList(rc.allowed_sessions as string | string[] | undefined).length
      ? sessionList(rc.allowed_sessions as string | string[])
      : DEFAULT_RUNNER.allowed_sessions;
  const risk = manifest.risk ?? {};
  if (risk.warmup_trades !== undefined) runner.warmup_trades = risk.warmup_trades;
  if (risk.risk_per_trade_pct !== undefined) runner.risk_per_trade_pct = risk.risk_per_trade_pct;
  return {
    symbol: chosen.symbol.toUpperCase(),
    timeframe: chosen.timeframe.toLowerCase(),
    mode,
    equity: choice.equity ?? manifest.runner?.cli_args?.equity ?? 100000,
    strategy,
    runner,
    manifestId: manifest.meta.id,
  };
}

function withDefaults<T extends object>(defaults: T, given: Record<string, unknown>): T {
  const out = { ...defaults } as Record<string, unknown>;
  for (const key of Object.keys(defaults)) if (given[key] !== undefined) out[key] = given[key];
  for (const key of ['rv_band_min_or_atr_ratio', 'rv_band_min_atr_pips', 'rv_band_max_atr_pips']) {
    if (key in out) out[key] = pickBands(out[key] as Record<string, unknown>);
  }
  return out as T;
}

function pickBands(map: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const band of RV_BANDS) if (typeof map[band] === 'number') out[band] = map[band];
  return out;
}

function sessionList(v: string | readonly string[] | undefined): string[] {
  if (v === undefined) return [];
  const list = typeof v === 'string' ? v.split(',') : v;
  return list.map((s) => s.trim().toUpperCase()).filter(Boolean);
}

// Parts of the source runner the specification leaves unspecified: refused rather than guessed.
function refuseUnsupported(manifest: Manifest, rc: Record<string, unknown>): void {
  const refuse = (what: string) => {
    throw new BatonError(
      'E_INVALID_OPTION',
      `manifest '${manifest.meta.id}': ${what} is not supported by Baton's runner (docs/backtest.md lists what is); remove it to run`,
    );
  };
  if (typeof rc.calibrate_days === 'number' && rc.calibrate_days > 0)
    refuse('runner_config.calibrate_days > 0');
  if (rc.rv_qcalib_enabled === true) refuse('runner_config.rv_qcalib_enabled');
  if (manifest.runner?.cli_args?.use_ev_profile === true) refuse('cli_args.use_ev_profile');
}

/** Overridden parameters (a sweep's grid, --set) pass the manifest's own checks. */
function checkOverrides(params: Record<string, unknown>, names: readonly string[]): void {
  const result = parameters.safeParse(params);
  if (result.success) return;
  const bad = result.error.issues.find((i) => names.includes(String(i.path[0])));
  if (bad === undefined) return;
  const name = String(bad.path[0]);
  throw new BatonError(
    'E_INVALID_OPTION',
    `strategy parameter ${name} = ${JSON.stringify(params[name])}: ${bad.message}`,
  );
}
