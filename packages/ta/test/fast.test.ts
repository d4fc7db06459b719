// The fast paths of src/fast.ts against the general (NaN-aware) loops, bit for bit, on
// inputs that reach every branch: clean data, leading NaNs (stays on the fast path),
// a NaN in the middle or on the last bar (falls back), infinities, flat stretches.
import { describe, expect, it } from 'vitest';
import * as F from '../src/fast.js';
import * as G from '../src/fast-general.js';
import { sameBits } from './arbitraries.js';

function walk(n: number, seed: number): Float64Array {
  let s = seed;
  const out = new Float64Array(n);
  let px = 100;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    const r = s / 2147483648;
    // Flat stretches (ties, zero differences) every 50 bars.
    if (i % 50 >= 45) out[i] = px;
    else out[i] = px = px * Math.exp(0.02 * (r - 0.5));
  }
  return out;
}

const N = 2000;
const base = {
  close: walk(N, 1),
  high: walk(N, 1).map((v, i) => v + 0.5 + (i % 3)),
  low: walk(N, 1).map((v, i) => v - 0.5 - (i % 4)),
};

type Cols = { close: Float64Array; high: Float64Array; low: Float64Array };
function variant(name: string): Cols {
  const c = { close: base.close.slice(), high: base.high.slice(), low: base.low.slice() };
  const set = (col: keyof Cols, at: number, v: number): void => void (c[col][at] = v);
  switch (name) {
    case 'leading NaN':
      for (let i = 0; i < 37; i++) (['close', 'high', 'low'] as const).forEach((k) => set(k, i, NaN));
      break;
    case 'leading NaN in one column':
      for (let i = 0; i < 5; i++) set('high', i, NaN);
      break;
    case 'NaN close in the middle':
      set('close', 1000, NaN);
      break;
    case 'NaN high in the middle':
      set('high', 700, NaN);
      break;
    case 'NaN low in the warm-up':
      set('low', 3, NaN);
      break;
    case 'NaN on the last bar':
      (['close', 'high', 'low'] as const).forEach((k) => set(k, N - 1, NaN));
      break;
    case 'NaN close on the last bar':
      set('close', N - 1, NaN);
      break;
    case 'infinity':
      set('close', 900, Infinity);
      set('high', 900, Infinity);
      break;
    case 'all NaN':
      (['close', 'high', 'low'] as const).forEach((k) => c[k].fill(NaN));
      break;
  }
  return c;
}

const VARIANTS = [
  'clean',
  'leading NaN',
  'leading NaN in one column',
  'NaN close in the middle',
  'NaN high in the middle',
  'NaN low in the warm-up',
  'NaN on the last bar',
  'NaN close on the last bar',
  'infinity',
  'all NaN',
];

const same = (a: Float64Array | Float64Array[], b: Float64Array | Float64Array[]): void => {
  const xs = Array.isArray(a) ? a : [a];
  const ys = Array.isArray(b) ? b : [b];
  expect(xs.length).toBe(ys.length);
  xs.forEach((x, k) => expect(sameBits(x, ys[k])).toBe(true));
};

describe.each(VARIANTS)('fast kernels equal the general loops: %s', (v) => {
  const { close, high, low } = variant(v);
  it.each([1, 2, 14, 30])('period %i', (p) => {
    same(F.sumBatch(close, p, true), G.sumGeneral(close, p, true));
    same(F.sumBatch(close, p, false), G.sumGeneral(close, p, false));
    same(F.emaBatch(close, p, 2 / (p + 1), false), G.emaGeneral(close, p, 2 / (p + 1), false));
    same(F.emaBatch(close, p, 2 / (p + 1), true), G.emaGeneral(close, p, 2 / (p + 1), true));
    same(F.atrBatch(high, low, close, p), G.atrGeneral(high, low, close, p));
    if (p >= 2) {
      same(F.gainLossBatch(close, p, false), G.gainLossGeneral(close, p, false));
      same(F.gainLossBatch(close, p, true), G.gainLossGeneral(close, p, true));
      same(F.bbandsBatch(close, p, 2, 1.5), G.bbandsGeneral(close, p, 2, 1.5));
      same(F.adxBatch(high, low, close, p), G.adxGeneral(high, low, close, p));
      same(F.macdBatch(close, p, p + 7, 9), G.macdGeneral(close, p, p + 7, 9));
      same(F.macdBatch(close, p + 7, p, 1), G.macdGeneral(close, p + 7, p, 1));
    }
  });
});

it('short inputs (shorter than the warm-up) take the general loop', () => {
  const x = walk(10, 3);
  same(F.smaBatch(x, 10), G.sumGeneral(x, 10, true));
  same(F.gainLossBatch(x, 10, false), G.gainLossGeneral(x, 10, false));
  same(F.adxBatch(x, x, x, 5), G.adxGeneral(x, x, x, 5));
  same(F.macdBatch(x, 3, 5, 9), G.macdGeneral(x, 3, 5, 9));
});
