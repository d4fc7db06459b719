// Generators shared by the tests: fast-check arbitraries, and a seeded random walk.
import fc from 'fast-check';
import type { Indicator, ParamSpec } from '../src/index.js';

/** Bars with ties (half the values on a 0.25 grid, half with random fractions) and occasional NaN, as one Float64Array per input. */
export function inputsFor(
  ind: Indicator,
  minLen = 30,
  maxLen = 90,
  maxNaN = 3,
): fc.Arbitrary<Float64Array[]> {
  const bar = fc.record({
    c: fc.integer({ min: 0, max: 400 }),
    f: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 1, noNaN: true })),
    up: fc.integer({ min: 0, max: 8 }),
    dn: fc.integer({ min: 0, max: 8 }),
    o: fc.integer({ min: -8, max: 8 }),
    v: fc.integer({ min: 0, max: 5000 }),
  });
  const holes = fc.array(fc.tuple(fc.nat(), fc.nat(7)), { maxLength: maxNaN });
  return fc.tuple(fc.array(bar, { minLength: minLen, maxLength: maxLen }), holes).map(([bars, nans]) => {
    const n = bars.length;
    const cols: Record<string, Float64Array> = {};
    for (const name of ['open', 'high', 'low', 'close', 'volume', 'series', 'series2', 'series3'])
      cols[name] = new Float64Array(n);
    bars.forEach((b, i) => {
      const close = 50 + b.c / 4 + b.f;
      cols.close[i] = close;
      cols.open[i] = close + b.o / 4;
      cols.high[i] = Math.max(close, cols.open[i]) + b.up / 4;
      cols.low[i] = Math.min(close, cols.open[i]) - b.dn / 4;
      cols.volume[i] = b.v;
      cols.series[i] = close;
      cols.series2[i] = 50 + ((b.c * 7 + b.v) % 400) / 4;
      cols.series3[i] = cols.series2[i] - 10 - b.up;
    });
    const names = ['open', 'high', 'low', 'close', 'volume', 'series', 'series2', 'series3'];
    for (const [at, col] of nans) cols[names[col]][at % n] = NaN;
    return ind.inputs.map((name) => cols[name]);
  });
}

function paramArb(spec: ParamSpec): fc.Arbitrary<number> {
  if (spec.type === 'int')
    return fc.integer({ min: spec.min, max: Math.min(spec.max, Math.max(spec.min, 1) + 7) });
  return fc.double({
    min: Math.max(spec.min, 0),
    max: Math.min(spec.max, Math.abs(spec.default) * 3 + 1),
    noNaN: true,
  });
}

/** Random parameters within the declared ranges, small enough for the generated inputs. */
export function paramsFor(ind: Indicator): fc.Arbitrary<Record<string, number>> {
  const rec: Record<string, fc.Arbitrary<number>> = {};
  for (const p of ind.params) rec[p.name] = paramArb(p);
  return fc.record(rec);
}

/** Equal as bits, treating every NaN as equal. */
export function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++)
    if (!(Object.is(a[i], b[i]) || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) return false;
  return true;
}

/** A seeded random walk of `n` prices from 100 (steps of at most ±1.5), the same on every run. */
export function randomWalk(n: number, seed: number): Float64Array {
  const x = new Float64Array(n);
  let v = 100;
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v += (s / 2147483648 - 0.5) * 3;
    x[i] = v;
  }
  return x;
}
