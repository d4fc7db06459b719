// Indicators TA-Lib does not define, checked against direct (naive) formulas on a seeded random walk.
import { describe, expect, it } from 'vitest';
import { compute, getIndicator } from '../src/index.js';
import { randomWalk } from './arbitraries.js';

const N = 300;
const walk = (seed: number): Float64Array => randomWalk(N, seed);
const close = walk(1);
const high = close.map((c, i) => c + 0.5 + (i % 7) * 0.3);
const low = close.map((c, i) => c - 0.5 - (i % 5) * 0.3);
const volume = walk(2).map((v) => Math.abs(v) * 1000);

const range = (a: number, b: number): number[] => Array.from({ length: b - a }, (_, k) => a + k);
const win = (x: ArrayLike<number>, i: number, p: number): number[] =>
  range(i - p + 1, i + 1).map((j) => x[j]);
const mean = (a: number[]): number => a.reduce((s, v) => s + v, 0) / a.length;
const nan = (n: number): number[] => new Array<number>(n).fill(NaN);

function expectClose(got: Float64Array, want: number[], tol = 1e-9): void {
  expect(got.length).toBe(want.length);
  for (let i = 0; i < want.length; i++) {
    if (Number.isNaN(want[i])) expect(got[i], `bar ${i}`).toBeNaN();
    else
      expect(Math.abs(got[i] - want[i]), `bar ${i}: ${got[i]} vs ${want[i]}`).toBeLessThanOrEqual(
        tol * Math.max(1, Math.abs(want[i])),
      );
  }
}

function naiveWma(x: ArrayLike<number>, p: number): number[] {
  return Array.from(x, (_, i) => {
    if (i < p - 1) return NaN;
    const w = win(x, i, p);
    if (w.some(Number.isNaN)) return NaN;
    return w.reduce((s, v, k) => s + v * (k + 1), 0) / ((p * (p + 1)) / 2);
  });
}
function naiveEma(x: ArrayLike<number>, p: number, from = 0): number[] {
  const out = nan(x.length);
  let prev = NaN;
  for (let i = from + p - 1; i < x.length; i++) {
    prev = i === from + p - 1 ? mean(win(x, i, p)) : (x[i] - prev) * (2 / (p + 1)) + prev;
    out[i] = prev;
  }
  return out;
}
function naiveWilder(x: ArrayLike<number>, p: number, from = 0): number[] {
  const out = nan(x.length);
  let prev = NaN;
  for (let i = from + p - 1; i < x.length; i++) {
    prev = i === from + p - 1 ? mean(win(x, i, p)) : (prev * (p - 1) + x[i]) / p;
    out[i] = prev;
  }
  return out;
}
const tr = Array.from(close, (_, i) =>
  i === 0
    ? NaN
    : Math.max(high[i] - low[i], Math.abs(high[i] - close[i - 1]), Math.abs(low[i] - close[i - 1])),
);
const atr = (p: number): number[] => naiveWilder(tr, p, 1);

describe('primitives', () => {
  it('rolling_median', () => {
    const want = Array.from(close, (_, i) => {
      if (i < 4) return NaN;
      const w = win(close, i, 5).sort((a, b) => a - b);
      return w[2];
    });
    expectClose(compute('rolling_median', [close], { period: 5 }).value, want);
    const even = Array.from(close, (_, i) =>
      i < 3 ? NaN : ((w) => (w[1] + w[2]) / 2)(win(close, i, 4).sort((a, b) => a - b)),
    );
    expectClose(compute('rolling_median', [close], { period: 4 }).value, even);
  });
  it('rolling_rma is Wilder smoothing', () =>
    expectClose(compute('rolling_rma', [close], { period: 9 }).value, naiveWilder(close, 9)));
  it('shift, sign, cumulative_sum', () => {
    expectClose(
      compute('shift', [close], { period: 3 }).value,
      Array.from(close, (_, i) => (i < 3 ? NaN : close[i - 3])),
    );
    expect(Array.from(compute('sign', [Float64Array.from([-2, 0, 3, NaN])]).value)).toEqual([-1, 0, 1, NaN]);
    let s = 0;
    expectClose(
      compute('cumulative_sum', [close]).value,
      Array.from(close, (v) => (s += v)),
    );
  });
  it('ema seed=1 starts from the first value', () => {
    const want: number[] = [];
    let prev = close[0];
    for (let i = 0; i < N; i++) want.push(i === 0 ? prev : (prev = (close[i] - prev) * (2 / 11) + prev));
    expectClose(compute('ema', [close], { period: 10, seed: 1 }).value, want);
  });
});

describe('trend', () => {
  it('hma = WMA(2·WMA(n/2) − WMA(n), √n)', () => {
    const a = naiveWma(close, 8);
    const b = naiveWma(close, 16);
    const raw = a.map((v, i) => 2 * v - b[i]);
    const want = naiveWma(raw, 4);
    expectClose(compute('hma', [close], { period: 16 }).value, want);
  });
  it('ichimoku lines and displaced spans', () => {
    const mid = (i: number, p: number): number =>
      i < p - 1 ? NaN : (Math.max(...win(high, i, p)) + Math.min(...win(low, i, p))) / 2;
    const r = compute('ichimoku', [high, low], {});
    expectClose(
      r.tenkan,
      range(0, N).map((i) => mid(i, 9)),
    );
    expectClose(
      r.kijun,
      range(0, N).map((i) => mid(i, 26)),
    );
    expectClose(
      r.senkou_a,
      range(0, N).map((i) => (i < 26 ? NaN : (mid(i - 26, 9) + mid(i - 26, 26)) / 2)),
    );
    expectClose(
      r.senkou_b,
      range(0, N).map((i) => (i < 26 ? NaN : mid(i - 26, 52))),
    );
  });
  it('elder_ray', () => {
    const e = naiveEma(close, 13);
    const r = compute('elder_ray', [high, low, close], {});
    expectClose(
      r.bull,
      e.map((v, i) => high[i] - v),
    );
    expectClose(
      r.bear,
      e.map((v, i) => low[i] - v),
    );
  });
  it('supertrend bands hold the trailing rule and direction follows the close', () => {
    const r = compute('supertrend', [high, low, close], { period: 10, multiplier: 3 });
    const a = atr(10);
    for (let i = 11; i < N; i++) {
      const mid = (high[i] + low[i]) / 2;
      const dir = r.direction[i];
      expect([1, -1]).toContain(dir);
      if (dir === 1) {
        expect(r.supertrend[i]).toBeLessThanOrEqual(close[i] + 1e-9);
        expect(r.supertrend[i]).toBeGreaterThanOrEqual(mid - 3 * a[i] - 1e-9);
      } else {
        expect(r.supertrend[i]).toBeGreaterThanOrEqual(close[i] - 1e-9);
        expect(r.supertrend[i]).toBeLessThanOrEqual(mid + 3 * a[i] + 1e-9);
      }
    }
    expect(new Set(Array.from(r.direction.slice(11))).size).toBe(2);
  });
  it('fisher transform', () => {
    const hl2 = Array.from(close, (_, i) => (high[i] + low[i]) / 2);
    const fish = nan(N);
    let v = 0;
    let f = 0;
    for (let i = 8; i < N; i++) {
      const w = win(hl2, i, 9);
      const hh = Math.max(...w);
      const ll = Math.min(...w);
      v = Math.max(-0.999, Math.min(0.999, 0.66 * ((hl2[i] - ll) / (hh - ll) - 0.5) + 0.67 * v));
      f = 0.5 * Math.log((1 + v) / (1 - v)) + 0.5 * f;
      fish[i] = f;
    }
    const r = compute('fisher', [high, low], { period: 9 });
    expectClose(r.fisher, fish);
    expectClose(
      r.trigger,
      fish.map((x, i) => (i < 9 ? NaN : fish[i - 1])),
    );
  });
});

describe('momentum, volatility, volume', () => {
  const hl2 = Array.from(close, (_, i) => (high[i] + low[i]) / 2);
  const sma = (x: ArrayLike<number>, p: number): number[] =>
    Array.from(x, (_, i) => (i < p - 1 ? NaN : mean(win(x, i, p))));
  it('ao = SMA(hl2,5) − SMA(hl2,34)', () => {
    const a = sma(hl2, 5);
    const b = sma(hl2, 34);
    expectClose(
      compute('ao', [high, low]).value,
      a.map((v, i) => v - b[i]),
    );
  });
  it('coppock = WMA(ROC14 + ROC11, 10)', () => {
    const roc = (p: number): number[] =>
      Array.from(close, (v, i) => (i < p ? NaN : (v / close[i - p] - 1) * 100));
    const r14 = roc(14);
    const r11 = roc(11);
    expectClose(
      compute('coppock', [close]).value,
      naiveWma(
        r14.map((v, i) => v + r11[i]),
        10,
      ),
    );
  });
  it('vortex', () => {
    const vp = Array.from(close, (_, i) => (i === 0 ? NaN : Math.abs(high[i] - low[i - 1])));
    const vm = Array.from(close, (_, i) => (i === 0 ? NaN : Math.abs(low[i] - high[i - 1])));
    const sum = (x: number[], i: number): number => win(x, i, 14).reduce((s, v) => s + v, 0);
    const r = compute('vortex', [high, low, close], { period: 14 });
    expectClose(
      r.plus,
      range(0, N).map((i) => (i < 14 ? NaN : sum(vp, i) / sum(tr, i))),
    );
    expectClose(
      r.minus,
      range(0, N).map((i) => (i < 14 ? NaN : sum(vm, i) / sum(tr, i))),
    );
  });
  it('donchian', () => {
    const r = compute('donchian', [high, low], { period: 20 });
    const up = range(0, N).map((i) => (i < 19 ? NaN : Math.max(...win(high, i, 20))));
    const lo = range(0, N).map((i) => (i < 19 ? NaN : Math.min(...win(low, i, 20))));
    expectClose(r.upper, up);
    expectClose(r.lower, lo);
    expectClose(
      r.middle,
      up.map((u, i) => (u + lo[i]) / 2),
    );
  });
  it('keltner = EMA ± 2·ATR(10)', () => {
    const e = naiveEma(close, 20);
    const a = atr(10);
    const r = compute('keltner', [high, low, close], {});
    expectClose(r.middle, e);
    expectClose(
      r.upper,
      e.map((v, i) => v + 2 * a[i]),
    );
    expectClose(
      r.lower,
      e.map((v, i) => v - 2 * a[i]),
    );
  });
  it('atr matches naive Wilder smoothing of the true range', () =>
    expectClose(compute('atr', [high, low, close], { period: 14 }).value, atr(14)));
  it('vwap cumulative and rolling', () => {
    const tp = Array.from(close, (c, i) => (high[i] + low[i] + c) / 3);
    let pv = 0;
    let vv = 0;
    expectClose(
      compute('vwap', [high, low, close, volume]).value,
      tp.map((t, i) => ((pv += t * volume[i]), (vv += volume[i]), pv / vv)),
    );
    const rolled = range(0, N).map((i) =>
      i < 9
        ? NaN
        : win(tp, i, 10).reduce((s, t, k) => s + t * volume[i - 9 + k], 0) /
          win(volume, i, 10).reduce((s, v) => s + v, 0),
    );
    expectClose(compute('vwap', [high, low, close, volume], { period: 10 }).value, rolled);
  });
  it('cmf', () => {
    const mfv = Array.from(close, (c, i) => ((c - low[i] - (high[i] - c)) / (high[i] - low[i])) * volume[i]);
    const want = range(0, N).map((i) =>
      i < 19
        ? NaN
        : win(mfv, i, 20).reduce((s, v) => s + v, 0) / win(volume, i, 20).reduce((s, v) => s + v, 0),
    );
    expectClose(compute('cmf', [high, low, close, volume]).value, want);
  });
  it('klinger (TradingView form)', () => {
    const tp = Array.from(close, (c, i) => (high[i] + low[i] + c) / 3);
    const sv = Array.from(close, (_, i) => (i === 0 ? NaN : tp[i] - tp[i - 1] >= 0 ? volume[i] : -volume[i]));
    const f = naiveEma(sv, 34, 1);
    const s = naiveEma(sv, 55, 1);
    const kvo = f.map((v, i) => v - s[i]);
    const sig = naiveEma(kvo, 13, 55);
    const r = compute('klinger', [high, low, close, volume]);
    expectClose(
      r.kvo,
      kvo.map((v, i) => (i < 67 ? NaN : v)),
    );
    expectClose(r.signal, sig);
  });
});

describe('events and patterns', () => {
  const a = Float64Array.from([1, 2, 3, 2, 1, 1, 2, NaN, 3, 1]);
  const b = Float64Array.from([2, 2, 2, 2, 2, 1, 1, 1, 1, 1]);
  it('cross, crossup, crossdown', () => {
    expect(Array.from(compute('crossup', [a, b]).value)).toEqual([NaN, 0, 1, 0, 0, 0, 1, NaN, NaN, 0]);
    expect(Array.from(compute('crossdown', [a, b]).value)).toEqual([NaN, 0, 0, 0, 1, 0, 0, NaN, NaN, 0]);
    expect(Array.from(compute('cross', [a, b]).value)).toEqual([NaN, 0, 1, 0, 1, 0, 1, NaN, NaN, 0]);
    const c = Float64Array.from([3, 0]);
    expect(Array.from(compute('cross', [c, Float64Array.from([1, 1])]).value)).toEqual([NaN, 1]);
  });
  it('rising, falling, rising_pct, falling_pct', () => {
    const x = Float64Array.from([100, 101, 100.5, 103, 99]);
    expect(Array.from(compute('rising', [x]).value)).toEqual([NaN, 1, 0, 1, 0]);
    expect(Array.from(compute('falling', [x]).value)).toEqual([NaN, 0, 1, 0, 1]);
    expect(Array.from(compute('rising_pct', [x], { percent: 1 }).value)).toEqual([NaN, 1, 0, 1, 0]);
    expect(Array.from(compute('falling_pct', [x], { percent: 2 }).value)).toEqual([NaN, 0, 0, 0, 1]);
    expect(Array.from(compute('rising_pct', [x], { period: 2, percent: 1.9 }).value)).toEqual([
      NaN,
      NaN,
      0,
      1,
      0,
    ]);
  });
  it('in_channel, out_channel, enter, exit', () => {
    const x = Float64Array.from([5, 11, 9, 0, 1, 3]);
    const up = Float64Array.from([10, 10, 10, 10, 10, 10]);
    const lo = Float64Array.from([1, 1, 1, 1, 1, 1]);
    expect(Array.from(compute('in_channel', [x, up, lo]).value)).toEqual([1, 0, 1, 0, 1, 1]);
    expect(Array.from(compute('out_channel', [x, up, lo]).value)).toEqual([0, 1, 0, 1, 0, 0]);
    expect(Array.from(compute('enter', [x, up, lo]).value)).toEqual([NaN, 0, 1, 0, 1, 0]);
    expect(Array.from(compute('exit', [x, up, lo]).value)).toEqual([NaN, 1, 0, 1, 0, 0]);
  });
  it('swing_points flags the pivot on its confirming bar', () => {
    const h = Float64Array.from([1, 2, 5, 3, 2, 4, 6, 1, 0, 1]);
    const l = Float64Array.from([0, 1, 3, 2, 1, 2, 4, 0, -1, 0]);
    const r = compute('swing_points', [h, l], { left: 2, right: 2 });
    // Swing high at bar 2 (5 > 1,2 and > 3,2) confirmed at bar 4; at bar 6 (6 > 2,4 and > 1,0) confirmed at bar 8.
    expect(Array.from(r.swing_high)).toEqual([NaN, NaN, NaN, NaN, 1, 0, 0, 0, 1, 0]);
    // Swing low at bar 4 (1 < 3,2 and < 2,4) confirmed at bar 6.
    expect(Array.from(r.swing_low)).toEqual([NaN, NaN, NaN, NaN, 0, 0, 1, 0, 0, 0]);
  });
  it('every indicator is reachable through compute()', () => {
    expect(getIndicator('swing_points')!.outputs).toEqual(['swing_high', 'swing_low']);
  });
});
