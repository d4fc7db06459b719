// A run's files, as the source runner writes them: metrics.json (its key names), records.csv,
// daily.csv, params.json and state.json. Numbers print as JavaScript prints them (shortest round trip).
import type { LoadReport } from './bars.js';
import type { RunSettings } from './config.js';
import { headline, type DailyRow, type RunResult, type TradeRecord } from './results.js';

/** metrics.json: the headline figures, the equity curve, the run's identity and its counters. */
export function metricsJson(
  result: RunResult,
  settings: RunSettings,
  load?: LoadReport,
): Record<string, unknown> {
  const fills = result.daily.reduce((s, d) => s + d.fills, 0);
  const evPass = result.daily.reduce((s, d) => s + d.ev_pass, 0);
  const evReject = result.daily.reduce((s, d) => s + d.ev_reject, 0);
  const slipReal = result.daily.reduce((s, d) => s + d.slip_real, 0);
  return {
    ...headline(result),
    equity_curve: result.equity_curve,
    decay: settings.runner.ev_decay,
    manifest_id: settings.manifestId,
    symbol: settings.symbol,
    mode: settings.mode,
    equity: result.equity,
    runtime: {
      ev_pass: evPass,
      ev_reject: evReject,
      fills,
      execution_health: {
        ...(evPass + evReject > 0 && { reject_rate: evReject / (evPass + evReject) }),
        ...(fills > 0 && { slippage_bps: slipReal / fills }),
      },
    },
    debug: { csv_loader: load ?? { skipped_rows: 0 }, ...result.counters },
    ...(result.open_position && { open_position_at_end: true }),
    ...(result.warnings.length && { warnings: result.warnings }),
  };
}

const RECORD_COLUMNS: (keyof TradeRecord)[] = [
  'entry_ts',
  'exit_ts',
  'side',
  'entry_px',
  'exit_px',
  'reason',
  'qty',
  'pnl_pips',
  'pnl_value',
  'win',
  'prob',
  'session',
  'spread_band',
  'rv_band',
  'ev_lcb',
  'slip_est',
  'slip_real',
  'zscore',
];

/** records.csv: one `trade` row per closed trade (`stage,pnl_pips,pnl_value,qty` lead, as the source's records do). */
export function recordsCsv(records: readonly TradeRecord[]): string {
  const cols = [
    'pnl_pips',
    'pnl_value',
    'qty',
    ...RECORD_COLUMNS.filter((c) => c !== 'pnl_pips' && c !== 'pnl_value' && c !== 'qty'),
  ] as (keyof TradeRecord)[];
  const lines = [['stage', ...cols].join(',')];
  for (const r of records) lines.push(['trade', ...cols.map((c) => csvCell(r[c]))].join(','));
  return `${lines.join('\n')}\n`;
}

const DAILY_COLUMNS: (keyof DailyRow)[] = [
  'date',
  'breakouts',
  'gate_pass',
  'gate_block',
  'ev_pass',
  'ev_reject',
  'fills',
  'wins',
  'pnl_pips',
];

/** daily.csv: the daily funnel, one row per date key. */
export function dailyCsv(daily: readonly DailyRow[]): string {
  const lines = [DAILY_COLUMNS.join(',')];
  for (const d of daily) lines.push(DAILY_COLUMNS.map((c) => csvCell(d[c])).join(','));
  return `${lines.join('\n')}\n`;
}

/** params.json: every setting the run used, after defaults and overrides (unset ones left out). */
export function paramsJson(settings: RunSettings): Record<string, unknown> {
  // Settings the manifest left unset are undefined, which JSON has no place for.
  return JSON.parse(
    JSON.stringify({
      manifest_id: settings.manifestId,
      symbol: settings.symbol,
      timeframe: settings.timeframe,
      mode: settings.mode,
      equity: settings.equity,
      strategy: settings.strategy,
      runner: settings.runner,
    }),
  ) as Record<string, unknown>;
}

function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
