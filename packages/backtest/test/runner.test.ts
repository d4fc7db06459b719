// The Day ORB runner against the specification's worked example (first three trades of the sample
// bars), the source's pinned record metrics, and what the specification says of the rest of the sample.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { metricsFromRecords, parseBars, runBacktest } from '../src/index.js';
import { rv12, validBars } from '../src/features.js';
import { runSample, SAMPLE_CSV, SAMPLE_RECORDS, sampleSettings } from './fixtures.js';

/** Equal to the digits the specification prints (7 decimals), relative to the magnitude. */
function near(actual: number, expected: number, digits = 7) {
  expect(Math.abs(actual - expected)).toBeLessThan(0.6 * 10 ** -digits * Math.max(1, Math.abs(expected)));
}

describe('the source runner pinned figures', () => {
  it("metrics of runner_sample_records.csv match the source's test: sharpe 0.27660638840895513, max drawdown −10, equity [0, 12, 7, 15, 5]", () => {
    const m = metricsFromRecords(readFileSync(SAMPLE_RECORDS, 'utf8'));
    expect(m.trades).toBe(4);
    expect(m.wins).toBe(2);
    expect(m.total_pips).toBe(5);
    expect(m.equity).toEqual([0, 12, 7, 15, 5]);
    expect(m.sharpe).toBe(0.27660638840895513);
    expect(m.max_drawdown).toBe(-10);
  });
});

describe('the worked example (spec section 13), conservative', () => {
  const { result } = runSample('conservative');
  const [t1, t2, t3] = result.records;

  it('trade 1: 2018-01-02 08:30 SELL, filled 1.5 pips past the OR low, out on the entry-bar trail', () => {
    expect(t1).toMatchObject({
      entry_ts: '2018-01-02 08:30:00',
      exit_ts: '2018-01-02 08:30:00',
      side: 'SELL',
      reason: 'trail',
      win: 1,
    });
    near(t1!.entry_px, 112.486);
    near(t1!.exit_px, 112.4313714);
    near(t1!.qty, 1.0063705234, 9);
    near(t1!.slip_est, 0.1681147);
    near(t1!.pnl_pips, 4.8252875);
    near(t1!.pnl_value, 48.252875, 6);
    expect(t1).toMatchObject({ session: 'LDN', spread_band: 'narrow', rv_band: 'high' });
  });

  it('trade 2: 2018-01-02 15:35 BUY in NY, a small loss on the trail that starts the loss streak', () => {
    expect(t2).toMatchObject({
      entry_ts: '2018-01-02 15:35:00',
      side: 'BUY',
      reason: 'trail',
      win: 0,
      rv_band: 'mid',
    });
    near(t2!.entry_px, 112.201);
    near(t2!.exit_px, 112.2074857);
    near(t2!.qty, 0.8344493);
    near(t2!.slip_est, 0.2754556);
    near(t2!.pnl_pips, -0.1058784);
  });

  it('trade 3: 2018-01-03 15:00 BUY, TP and trail on one bar, the stop first', () => {
    expect(t3).toMatchObject({
      entry_ts: '2018-01-03 15:00:00',
      side: 'BUY',
      reason: 'trail',
      win: 1,
      rv_band: 'high',
    });
    near(t3!.entry_px, 112.288);
    near(t3!.exit_px, 112.3455429);
    near(t3!.qty, 0.9985926);
    near(t3!.pnl_pips, 4.8008436);
  });

  it('the equity curve starts 1 µs before the first exit and prints normalised UTC times', () => {
    const curve = result.equity_curve.slice(0, 4);
    expect(curve.map(([t]) => t)).toEqual([
      '2018-01-02T08:29:59.999999Z',
      '2018-01-02T08:30:00Z',
      '2018-01-02T15:35:00Z',
      '2018-01-03T15:00:00Z',
    ]);
    expect(curve[0]![1]).toBe(100000);
    near(curve[1]![1], 100048.2528749, 7);
    near(curve[2]![1], 100047.1940907, 7);
    near(curve[3]![1], 100095.2025, 4);
  });

  it('two trades are held one bar and leave on the trailed stop; the loss-streak lock ends trading on 2018-01-19', () => {
    const held = result.records.filter((r) => r.entry_ts !== r.exit_ts);
    expect(held.map((r) => [r.entry_ts, r.exit_ts, r.reason])).toEqual([
      ['2018-01-17 08:35:00', '2018-01-17 08:40:00', 'trail'],
      ['2018-01-18 09:00:00', '2018-01-18 09:05:00', 'trail'],
    ]);
    const last4 = result.records.slice(-4);
    expect(last4.every((r) => r.pnl_pips <= 0)).toBe(true);
    expect(last4.map((r) => r.entry_ts.slice(0, 10))).toEqual([
      '2018-01-18',
      '2018-01-18',
      '2018-01-19',
      '2018-01-19',
    ]);
    expect(result.records.every((r) => r.exit_ts < '2018-01-20')).toBe(true);
  });

  it('metrics follow from the records: Σ pnl, Σ wins, per-trade Sharpe with the population deviation, drawdown', () => {
    const values = result.records.map((r) => r.pnl_value);
    expect(result.trades).toBe(result.records.length);
    expect(result.total_pnl_value).toBe(values.reduce((a, b) => a + b, 0));
    expect(result.wins).toBe(result.records.reduce((a, r) => a + r.win, 0));
    const mean = result.total_pnl_value / values.length;
    const sd = Math.sqrt(values.reduce((a, v) => a + (v - mean) ** 2, 0) / values.length);
    near(result.sharpe!, (mean / sd) * Math.sqrt(values.length), 12);
    expect(result.max_drawdown).toBeLessThan(0);
    expect(result.win_rate).toBe(result.wins / result.trades);
  });

  it('every flat valid bar ends in exactly one outcome (spec 8.4 invariant)', () => {
    const c = result.counters;
    expect(c.invalid_bars).toBe(0);
    expect(c.no_breakout + c.gate_block + c.ev_reject + c.zero_qty + c.orders).toBe(
      5000 - c.in_position_bars,
    );
    expect(c.orders).toBe(result.trades);
  });

  it('the daily funnel sums to the trades, one row per date key, sorted', () => {
    const days = result.daily;
    expect(days.map((d) => d.date)).toEqual([...days.map((d) => d.date)].sort());
    expect(days.reduce((a, d) => a + d.fills, 0)).toBe(result.trades);
    expect(days.reduce((a, d) => a + d.breakouts, 0)).toBe(result.counters.orders);
    expect(days.reduce((a, d) => a + d.gate_block, 0)).toBe(result.counters.gate_block);
    near(
      days.reduce((a, d) => a + d.pnl_pips, 0),
      result.total_pips,
      9,
    );
  });
});

describe('bridge mode on the sample', () => {
  const { result } = runSample('bridge');
  it('trade 1 settles the TP/trail collision with p = 0.7482733: exit 112.4511365, reason tp, fractional win', () => {
    const t1 = result.records[0]!;
    expect(t1.reason).toBe('tp');
    near(t1.prob!, 0.7482733);
    near(t1.win, 0.7482733);
    near(t1.exit_px, 112.4511365);
    near(t1.pnl_pips, 2.8361856);
  });
  it('wins are fractional and equal the sum of the increments', () => {
    expect(Number.isInteger(result.wins)).toBe(false);
    near(
      result.wins,
      result.records.reduce((a, r) => a + r.win, 0),
      12,
    );
    expect(result.trades).toBeGreaterThan(0);
  });
});

describe('features', () => {
  it("RV12 keeps each log return once computed and gives the formula's value, bit for bit, in any order of bars", () => {
    const n = 400;
    const c = new Float64Array(n).map((_, i) => 112 + Math.sin(i / 7) * 0.3 + (i % 5) * 0.001);
    const vb = validBars(c, c, c, c, new Float64Array(n));
    const formula = (k: number) => {
      if (k < 12) return 0;
      let rsq = 0;
      for (let j = k - 11; j <= k; j++) {
        const r = Math.log(c[j]! / c[j - 1]!);
        rsq += r * r;
      }
      return Math.sqrt(rsq) * Math.sqrt(288);
    };
    const order = [...Array(n).keys()].sort((a, b) => ((a * 7919) % n) - ((b * 7919) % n));
    for (const k of order) expect(rv12(vb, k)).toBe(formula(k));
    expect(vb.logReturns[0]).toBeNaN();
    expect(vb.logReturns[n - 1]).toBe(Math.log(c[n - 1]! / c[n - 2]!));
  });
});

describe('determinism and data handling', () => {
  it('the same bars and settings give the same records, bit for bit', () => {
    const a = runSample('conservative').result;
    const b = runSample('conservative').result;
    expect(JSON.stringify(b.records)).toBe(JSON.stringify(a.records));
    expect(b.state).toEqual(a.state);
  });

  it('invalid bars are ignored without counting as flat bars; other timeframes too', () => {
    const lines = readFileSync(SAMPLE_CSV, 'utf8').trim().split('\n');
    // bar 2: high below close; bar 3: another timeframe
    const cells2 = lines[2]!.split(',');
    cells2[4] = '1.0';
    lines[2] = cells2.join(',');
    lines[3] = lines[3]!.replace(',5m,', ',1h,');
    const { result } = runSample('conservative', {}, lines.join('\n'));
    expect(result.counters.invalid_bars).toBe(2);
    const c = result.counters;
    expect(c.no_breakout + c.gate_block + c.ev_reject + c.zero_qty + c.orders).toBe(
      4998 - c.in_position_bars,
    );
  });

  it('a position still open at the end is no trade', () => {
    const settings = sampleSettings('conservative', { k_tp: 50, k_sl: 50, k_tr: 0 });
    const csv = readFileSync(SAMPLE_CSV, 'utf8').split('\n').slice(0, 150).join('\n');
    const { bars } = parseBars(csv, { symbol: 'USDJPY', timeframe: '5m' });
    const r = runBacktest(bars, settings);
    expect(r.open_position).toBe(true);
    expect(r.trades).toBe(0);
    expect(r.sharpe).toBeNull();
    expect(r.equity_curve).toEqual([]);
    expect(r.state.position?.side).toBeDefined();
  });
});
