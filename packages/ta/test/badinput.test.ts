// Bad input: the NaN policy, mismatched lengths, bad periods and non-integer parameters.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { getIndicator, listIndicators, TaError, type Indicator } from '../src/index.js';
import { inputsFor, paramsFor } from './arbitraries.js';

function code(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    if (e instanceof TaError) return e.code;
    throw e;
  }
  return undefined;
}

const walk = (n: number, seed = 1): Float64Array => {
  const x = new Float64Array(n);
  let v = 100;
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    v += (s / 2147483648 - 0.5) * 2;
    x[i] = Math.round(v * 1000) / 1000;
  }
  return x;
};

describe('NaN policy', () => {
  // Window kernels: NaN exactly for the windows that contain the NaN, unchanged elsewhere.
  const windowed: [string, Record<string, number>, number][] = [
    ['sma', { period: 10 }, 10],
    ['rolling_sum', { period: 7 }, 7],
    ['rolling_std', { period: 5 }, 5],
    ['rolling_max', { period: 6 }, 6],
    ['rolling_median', { period: 4 }, 4],
    ['wma', { period: 8 }, 8],
  ];
  it.each(windowed)('%s: a NaN affects exactly the windows that contain it', (id, params, w) => {
    const ind = getIndicator(id)!;
    const x = walk(200);
    const clean = ind.compute([x], params)[0];
    const at = 100;
    const y = x.slice();
    y[at] = NaN;
    const dirty = ind.compute([y], params)[0];
    for (let i = 0; i < x.length; i++) {
      if (i >= at && i < at + w) expect(dirty[i], `bar ${i}`).toBeNaN();
      else if (Number.isNaN(clean[i])) expect(dirty[i]).toBeNaN();
      else expect(Math.abs(dirty[i] - clean[i])).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(clean[i])));
    }
  });

  // Lag kernels read two bars only: the NaN bar and the bar `period` later (shift reads only the older one).
  it.each(['diff', 'shift', 'roc', 'rising'])('%s: a NaN affects only the bars that read it', (id) => {
    const ind = getIndicator(id)!;
    const x = walk(100);
    const y = x.slice();
    y[50] = NaN;
    const clean = ind.compute([x], { period: 3 })[0];
    const dirty = ind.compute([y], { period: 3 })[0];
    for (let i = 3; i < 100; i++) {
      if ((i === 50 && id !== 'shift') || i === 53) expect(dirty[i]).toBeNaN();
      else expect(dirty[i]).toBe(clean[i]);
    }
  });

  // Recursive kernels: NaN at the bar, state carried over it, so later values equal a run without that bar.
  it.each([
    ['ema', { period: 10 }],
    ['rsi', { period: 14 }],
    ['rolling_rma', { period: 5 }],
    ['cumulative_sum', {}],
  ] as [string, Record<string, number>][])('%s: a NaN bar gives NaN and is skipped', (id, params) => {
    const ind = getIndicator(id)!;
    const x = walk(120);
    const at = 60;
    const y = x.slice();
    y[at] = NaN;
    const dirty = ind.compute([y], params)[0];
    const without = ind.compute([Float64Array.from([...x.slice(0, at), ...x.slice(at + 1)])], params)[0];
    expect(dirty[at]).toBeNaN();
    for (let i = 0; i < at; i++)
      expect(Object.is(dirty[i], without[i]) || (isNaN(dirty[i]) && isNaN(without[i]))).toBe(true);
    for (let i = at + 1; i < x.length; i++) expect(dirty[i]).toBe(without[i - 1]);
  });

  it('atr: a NaN bar gives NaN there and on the next bar (its true range needs the previous close), then continues', () => {
    const h = walk(80, 2).map((v) => v + 1);
    const l = walk(80, 2).map((v) => v - 1);
    const c = walk(80, 2);
    const clean = getIndicator('atr')!.compute([h, l, c], { period: 5 })[0];
    c[40] = NaN;
    const dirty = getIndicator('atr')!.compute([h, l, c], { period: 5 })[0];
    expect(dirty[40]).toBeNaN();
    expect(dirty[41]).toBeNaN();
    for (let i = 0; i < 40; i++) expect(Object.is(dirty[i], clean[i]) || isNaN(clean[i])).toBe(true);
    expect(Number.isFinite(dirty[42])).toBe(true);
  });

  it('every indicator: NaN never leaks before the first NaN input, and outputs keep the input length', () => {
    for (const ind of listIndicators()) {
      fc.assert(
        fc.property(inputsFor(ind, 30, 60, 0), paramsFor(ind), fc.nat(), (ins, params, pos) => {
          const n = ins[0].length;
          const at = pos % n;
          const clean = ind.compute(ins, params);
          const dirty = ind.compute(
            ins.map((a, k) => {
              const b = a.slice();
              if (k === 0) b[at] = NaN;
              return b;
            }),
            params,
          );
          for (let k = 0; k < clean.length; k++) {
            expect(dirty[k].length).toBe(n);
            for (let i = 0; i < at; i++)
              expect(Object.is(dirty[k][i], clean[k][i]) || (isNaN(dirty[k][i]) && isNaN(clean[k][i]))).toBe(
                true,
              );
          }
        }),
        { numRuns: 5, seed: 7 },
      );
    }
  });
});

describe('errors', () => {
  const x = walk(50);
  it('mismatched lengths → E_LENGTH_MISMATCH naming the inputs', () => {
    const atr = getIndicator('atr')!;
    expect(code(() => atr.compute([x, x, x.subarray(1)], {}))).toBe('E_LENGTH_MISMATCH');
    expect(() => atr.compute([x, x, x.subarray(1)], {})).toThrow(
      /input "close" has 49 values but "high" has 50/,
    );
  });
  it('period below 1 or longer than the input → E_PERIOD_INVALID', () => {
    const sma = getIndicator('sma')!;
    expect(code(() => sma.compute([x], { period: 0 }))).toBe('E_PERIOD_INVALID');
    expect(code(() => sma.compute([x], { period: -3 }))).toBe('E_PERIOD_INVALID');
    expect(code(() => sma.compute([x], { period: 51 }))).toBe('E_PERIOD_INVALID');
    expect(() => sma.compute([x], { period: 51 })).toThrow(/only 50 bars/);
    expect(code(() => sma.compute([x], { period: 50 }))).toBeUndefined();
    expect(code(() => getIndicator('macd')!.compute([x], { slow_period: 60 }))).toBe('E_PERIOD_INVALID');
  });
  it('non-integer int parameters and wrong types → E_PARAM_INVALID', () => {
    expect(code(() => getIndicator('rsi')!.compute([x], { period: 14.5 }))).toBe('E_PARAM_INVALID');
    expect(() => getIndicator('rsi')!.compute([x], { period: 14.5 })).toThrow(/whole number/);
    expect(code(() => getIndicator('rsi')!.compute([x], { period: NaN }))).toBe('E_PARAM_INVALID');
    expect(code(() => getIndicator('rsi')!.compute([x], { perod: 3 } as Record<string, number>))).toBe(
      'E_PARAM_INVALID',
    );
    expect(code(() => getIndicator('bbands')!.compute([x], { nbdevup: 1.5 }))).toBeUndefined();
  });
  it('wrong number of inputs → E_INPUT_INVALID; empty input → empty outputs', () => {
    expect(code(() => getIndicator('atr')!.compute([x], {}))).toBe('E_INPUT_INVALID');
    const out = getIndicator('sma')!.compute([new Float64Array(0)], {});
    expect(out[0].length).toBe(0);
  });
  it('errors serialise with code and details', () => {
    try {
      getIndicator('sma')!.compute([x], { period: 0 });
    } catch (e) {
      const j = (e as TaError).toJSON();
      expect(j.code).toBe('E_PERIOD_INVALID');
      expect(j.details).toMatchObject({ indicator: 'sma', param: 'period' });
    }
  });
});

describe('lookback', () => {
  it.each(listIndicators().map((i) => [i.id, i] as [string, Indicator]))(
    '%s: leading NaNs on clean data = lookback()',
    (_id, ind) => {
      const n = 400;
      const c = walk(n, 3);
      const cols: Record<string, Float64Array> = {
        open: c,
        close: c,
        high: c.map((v) => v + 1.5),
        low: c.map((v) => v - 1.5),
        volume: walk(n, 5).map((v) => Math.abs(v) * 100),
        series: c,
        series2: walk(n, 9),
        series3: walk(n, 9).map((v) => v - 5),
      };
      const outs = ind.compute(
        ind.inputs.map((name) => cols[name]),
        {},
      );
      const lb = ind.lookback({});
      // lookback = first bar where every output has a value (TA-Lib: all outputs start together).
      let first = 0;
      while (first < n && outs.some((o) => Number.isNaN(o[first]))) first++;
      expect(first).toBe(lb);
    },
  );
});
