// Headline metrics (spec section 8.1): per-trade Sharpe with the population deviation, drawdown in
// currency from the equity sequence, and the same figures from a records CSV.
import { BatonError } from '@baton/core';
import { splitCsv } from './bars.js';

/** Sharpe over per-trade values: mean / population deviation × √n; null without trades. */
export function sharpe(values: readonly number[]): number | null {
  const n = values.length;
  if (n === 0) return null;
  if (n === 1) return 0.0;
  let sum = 0;
  for (const r of values) sum += r;
  const m = sum / n;
  let sq = 0;
  for (const r of values) sq += (r - m) * (r - m);
  const s = Math.sqrt(sq / n);
  return s === 0 ? 0.0 : (m / s) * Math.sqrt(n);
}

/** The equity sequence [start, after trade 1, …], accumulated trade by trade. */
export function equitySequence(start: number, values: readonly number[]): number[] {
  const out = [start];
  let e = start;
  for (const r of values) out.push((e += r));
  return out;
}

/** The deepest fall below an earlier peak (≤ 0); null without trades. */
export function maxDrawdown(start: number, values: readonly number[]): number | null {
  if (values.length === 0) return null;
  let peak = start;
  let dd = 0;
  for (const v of equitySequence(start, values)) {
    peak = Math.max(peak, v);
    dd = Math.min(dd, v - peak);
  }
  return dd;
}

/** Metrics of a records CSV (`stage,pnl_pips,pnl_value,qty`, as the source's tests use). */
export interface RecordMetrics {
  trades: number;
  wins: number;
  total_pips: number;
  total_pnl_value: number;
  sharpe: number | null;
  max_drawdown: number | null;
  equity: number[];
}

/**
 * Reads trade rows (`stage` = trade) of a records CSV and computes the headline metrics from a
 * starting equity (0 by default, as the source's test does). A row is a win when its pnl_pips > 0.
 */
export function metricsFromRecords(text: string, startEquity = 0, source = 'records'): RecordMetrics {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  const header = splitCsv(lines[0] ?? '').map((h) => h.trim().toLowerCase());
  const col = (name: string) => {
    const i = header.indexOf(name);
    if (i < 0)
      throw new BatonError(
        'E_INPUT_INVALID',
        `${source}:1: no '${name}' column (the header has: ${header.join(', ')})`,
      );
    return i;
  };
  const stage = header.indexOf('stage');
  const pips = col('pnl_pips');
  const value = col('pnl_value');
  const values: number[] = [];
  let wins = 0;
  let totalPips = 0;
  for (let i = 1; i < lines.length; i++) {
    const cells = splitCsv(lines[i]!);
    if (stage >= 0 && cells[stage]?.trim() !== 'trade') continue;
    const p = Number(cells[pips]);
    const v = Number(cells[value]);
    if (
      !Number.isFinite(p) ||
      !Number.isFinite(v) ||
      cells[pips]?.trim() === '' ||
      cells[value]?.trim() === ''
    ) {
      throw new BatonError('E_INPUT_INVALID', `${source}:${i + 1}: pnl_pips and pnl_value must be numbers`);
    }
    if (p > 0) wins++;
    totalPips += p;
    values.push(v);
  }
  let total = 0;
  for (const v of values) total += v;
  return {
    trades: values.length,
    wins,
    total_pips: totalPips,
    total_pnl_value: total,
    sharpe: sharpe(values),
    max_drawdown: maxDrawdown(startEquity, values),
    equity: equitySequence(startEquity, values),
  };
}
