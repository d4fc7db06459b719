import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TaError } from '../src/errors.js';
import {
  compileExpression,
  evaluateCondition,
  evaluateRule,
  evaluateSeries,
  type ExprValue,
} from '../src/expr/index.js';
import type { Indicator } from '../src/indicator.js';
import { getIndicator, registerIndicator, unregisterIndicator } from '../src/registry.js';

const close = prices(200);
const open = close.map((x, i) => (i === 0 ? x : close[i - 1]));
const high = close.map((x, i) => Math.max(x, open[i]) + 0.5);
const low = close.map((x, i) => Math.min(x, open[i]) - 0.5);
const volume = close.map((_, i) => 1000 + ((i * 37) % 100));
const data = { open, high, low, close, volume };

function series(src: string, dataset: Record<string, Float64Array> = data): Float64Array {
  const cols = Object.values(evaluateSeries(src, dataset).columns);
  expect(cols.length).toBe(1);
  return cols[0];
}

function err(f: () => unknown): TaError {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TaError);
    return e as TaError;
  }
  throw new Error('expected an error');
}

const seriesErr = (src: string, dataset: Record<string, Float64Array> = data): TaError =>
  err(() => evaluateSeries(src, dataset));
const ruleErr = (src: string, ctx: Record<string, unknown>): TaError => err(() => evaluateRule(src, ctx));

describe('series semantics', () => {
  it('sma(close, 20) through the language equals the kernel called directly', () => {
    const direct = getIndicator('sma')!.compute([close], { period: 20 })[0];
    expect(series('sma(close, 20)')).toEqual(direct);
    expect(series('sma(20)')).toEqual(direct);
    expect(series('sma(close, period=20)')).toEqual(direct);
    expect(series('SMA(20)')).toEqual(direct);
  });

  it('broadcasts scalars over series, element-wise', () => {
    const v = series('close * 2 + 1');
    const w = series('2 - close / 4 % 3');
    for (const i of [0, 57, 199]) {
      expect(v[i]).toBe(close[i] * 2 + 1);
      expect(w[i]).toBe(2 - ((close[i] / 4) % 3));
    }
    expect(series('-close')[3]).toBe(-close[3]);
    expect(series('(high - low) / (high - low)')[5]).toBe(1);
  });

  it('comparisons give 1/0, and NaN (not false) during warm-up', () => {
    const v = series('close > sma(close, 5)');
    const s = getIndicator('sma')!.compute([close], { period: 5 })[0];
    expect([...v.slice(0, 4)].every(Number.isNaN)).toBe(true);
    for (let i = 4; i < 200; i++) expect(v[i]).toBe(close[i] > s[i] ? 1 : 0);
    expect(series('3 < close')[0]).toBe(1);
    expect(series('close == close')[0]).toBe(1);
    expect(series('close != close')[0]).toBe(0);
  });

  it('NaN in data compares as NaN, and and/or/not propagate NaN', () => {
    const c = Float64Array.from([1, NaN, 3, 0]);
    const d = { close: c };
    expect([...series('close >= 1', d)]).toEqual([1, NaN, 1, 0]);
    expect([...series('close == close', d)]).toEqual([1, NaN, 1, 1]);
    expect([...series('not close', d)]).toEqual([0, NaN, 0, 1]);
    expect([...series('close and true', d)]).toEqual([1, NaN, 1, 0]);
    expect([...series('false or close', d)]).toEqual([1, NaN, 1, 0]);
    expect([...series('false and close > 0', d)]).toEqual([0, NaN, 0, 0]);
    expect([...series('close > 0 or close < 0', d)]).toEqual([1, NaN, 1, 0]);
    expect([...series('close in [0, 3]', d)]).toEqual([0, NaN, 1, 1]);
    expect([...series('close not in [0, 3]', d)]).toEqual([1, NaN, 0, 0]);
  });

  it('the example rule is NaN in warm-up and 1/0 after', () => {
    const v = series('close > sma(close, 50) and sma(close, 10) < sma(close, 50)');
    expect(Number.isNaN(v[48])).toBe(true);
    expect([0, 1]).toContain(v[49]);
    expect(evaluateSeries('close > sma(close, 50) and sma(close, 10) < 3', data).lookback).toBe(49);
  });

  it('scalar and boolean results become constant columns', () => {
    expect([...series('1 + 1', { close: close.slice(0, 3) })]).toEqual([2, 2, 2]);
    expect([...series('1 < 2', { close: close.slice(0, 2) })]).toEqual([1, 1]);
  });

  it('reads OHLCV columns implicitly for indicators built on them', () => {
    const tr = getIndicator('true_range')!.compute([high, low, close], {})[0];
    expect(series('true_range()')).toEqual(tr);
    expect(series('tr() * 2')[10]).toBe(tr[10] * 2);
    const e = seriesErr('true_range()', { close });
    expect(e.code).toBe('E_UNKNOWN_NAME');
    expect(e.message).toBe("'true_range' reads column 'high', which the dataset does not have at 1:1");
  });

  it('uses scalar context variables next to columns', () => {
    const r = evaluateSeries(
      'close > limit',
      { close: Float64Array.from([1, 5]) },
      { context: { limit: 2 } },
    );
    expect([...Object.values(r.columns)[0]]).toEqual([0, 1]);
  });
});

describe('argument conventions with the built-in indicators', () => {
  const kernel = (id: string, inputs: Float64Array[], params: Record<string, number>): Float64Array[] =>
    getIndicator(id)!.compute(inputs, params);

  it.each([
    ['atr(14)', 'atr', [high, low, close], { period: 14 }],
    ['cci(14)', 'cci', [high, low, close], { period: 14 }],
    ['williams_r(14)', 'williams_r', [high, low, close], { period: 14 }],
    ['willr(period=14)', 'williams_r', [high, low, close], { period: 14 }],
    ['mfi(14)', 'mfi', [high, low, close, volume], { period: 14 }],
    ['obv()', 'obv', [close, volume], {}],
    ['rsi(14)', 'rsi', [close], { period: 14 }],
    ['rsi(open, 7)', 'rsi', [open], { period: 7 }],
  ] as [string, string, Float64Array[], Record<string, number>][])(
    '%s reads its inputs from the dataset and equals the kernel',
    (src, id, inputs, params) => {
      expect(series(src)).toEqual(kernel(id, inputs, params)[0]);
    },
  );

  it('multi-output built-ins: all outputs as columns, or one by member access', () => {
    const adx = kernel('adx', [high, low, close], { period: 14 });
    const r = evaluateSeries('adx(14)', data);
    expect(Object.keys(r.columns)).toEqual(['adx.adx', 'adx.plus_di', 'adx.minus_di']);
    expect(r.columns['adx.adx']).toEqual(adx[0]);
    expect(r.lookback).toBe(27);
    const st = kernel('stochastic', [high, low, close], {
      fastk_period: 14,
      slowk_period: 3,
      slowd_period: 3,
    });
    expect(series('stochastic(14, 3, 3).d')).toEqual(st[1]);
    const macd = kernel('macd', [close], { fast_period: 12, slow_period: 26, signal_period: 9 });
    expect(series('macd(close).signal')).toEqual(macd[1]);
    expect(series('macd(close, 12, 26, 9).histogram')).toEqual(macd[2]);
  });

  it('later series inputs take a series or a broadcast constant', () => {
    const limit = new Float64Array(close.length).fill(100);
    expect(series('cross(close, 100)')).toEqual(kernel('cross', [close, limit], {})[0]);
    const s = kernel('sma', [close], { period: 10 })[0];
    expect(series('crossup(close, sma(10))')).toEqual(kernel('crossup', [close, s], {})[0]);
  });

  it('a missing required series input is an arity error', () => {
    const e = seriesErr('cross(close)');
    expect(e.code).toBe('E_PARAM_INVALID');
    expect(e.message).toBe("'cross' needs 2 input series, got 1 at 1:1 — usage: cross(series, series2)");
  });
});

describe('multi-output indicators', () => {
  const bands = bandsIndicator('test_bands');
  beforeAll(() => registerIndicator(bands));
  afterAll(() => unregisterIndicator(bands.id));

  it('gives all outputs as <name>.<output> columns', () => {
    const r = evaluateSeries('test_bands(close, 3, width=2)', data);
    expect(Object.keys(r.columns)).toEqual(['test_bands.upper', 'test_bands.middle', 'test_bands.lower']);
    expect(r.columns['test_bands.upper'][5]).toBe(close[5] + 2);
    expect(r.lookback).toBe(2);
  });

  it('member access selects one output', () => {
    expect(series('test_bands(close, 3).lower')[5]).toBe(close[5] - 1);
    expect(series('close > test_bands(width=0).upper')[5]).toBe(0);
  });

  it('rejects an unknown output and arithmetic on all outputs', () => {
    const e = seriesErr('test_bands(close).uper');
    expect(e.message).toBe("'test_bands' has no output 'uper' at 1:19 — did you mean 'upper'?");
    const f = seriesErr('test_bands(close) + 1');
    expect(f.code).toBe('E_TYPE');
    expect(f.message).toBe("'test_bands' has several outputs at 1:1 — select one: .upper, .middle, .lower");
  });
});

describe('rules over plain contexts', () => {
  const ctx = {
    steps: { create_task: { status: 'running', attempts: 2, tags: ['gpu', 'urgent'] } },
    percent_used: 95,
    critical_percent: 90,
    owner: null,
    name: 'nightly-build',
  };

  it.each([
    ["steps.create_task.status not in ['completed', 'failed']", true],
    ["steps.create_task.status in ['completed', 'failed']", false],
    ['percent_used >= critical_percent', true],
    ['percent_used < critical_percent - 10', false],
    ["'gpu' in steps.create_task.tags", true],
    ["'build' in name and not ('x' in name)", true],
    ['owner == null', true],
    ['steps.create_task.missing == null', true],
    ['steps.create_task.attempts * 10 % 7', 6],
    ["name == 'nightly-build' or owner.name == 'x'", true],
    ["owner != null and owner.name == 'x'", false],
    ['[1, 2] == [1, 2]', true],
    ["'abc' < 'abd'", true],
    ['steps.create_task.tags', ['gpu', 'urgent']],
  ] as [string, ExprValue][])('%s', (src, want) => {
    expect(evaluateRule(src, ctx)).toEqual(want);
  });

  it('compiles once and evaluates per context', () => {
    const rule = compileExpression('percent_used >= critical_percent');
    expect(rule.evaluate({ context: { percent_used: 50, critical_percent: 90 } })).toBe(false);
    expect(rule.evaluate({ context: { percent_used: 91, critical_percent: 90 } })).toBe(true);
  });

  it('NaN compares false in scalar rules', () => {
    expect(evaluateRule('x < 1 or x >= 1 or x == x', { x: NaN })).toBe(false);
    expect(evaluateRule('x != x', { x: NaN })).toBe(true);
  });

  it('reports run-time type errors with the position', () => {
    expect(ruleErr('name + 1', ctx).message).toBe(
      "'+' needs numbers or series, got a string and a number at 1:1",
    );
    expect(ruleErr('owner.name', ctx).message).toBe("cannot read field 'name' of null at 1:1");
    expect(ruleErr('percent_used and true', ctx).code).toBe('E_TYPE');
    expect(ruleErr('percent_used in name', ctx).message).toBe(
      "'in' needs a string on the left of a string, got a number and a string at 1:1",
    );
  });

  it('an unknown top-level name suggests the nearest one', () => {
    const e = ruleErr('percent_usd > 1', ctx);
    expect(e.code).toBe('E_UNKNOWN_NAME');
    expect(e.message).toBe("unknown name 'percent_usd' at 1:1 — did you mean 'percent_used'?");
  });

  it('evaluateCondition insists on a boolean', () => {
    expect(evaluateCondition('percent_used > 1', ctx)).toBe(true);
    expect(err(() => evaluateCondition('percent_used', ctx)).message).toBe(
      'a condition must give true or false, got number at 1:1',
    );
  });
});

describe('safety: no path to JS objects', () => {
  it('member access reads own fields of plain data only', () => {
    const ctx = { x: { a: 1 }, s: 'abc', l: [1, 2] };
    expect(evaluateRule('x.constructor', ctx)).toBeNull();
    expect(evaluateRule('x.__proto__', ctx)).toBeNull();
    expect(evaluateRule('x.toString', ctx)).toBeNull();
    expect(evaluateRule('x.hasOwnProperty', ctx)).toBeNull();
    expect(ruleErr('x.constructor.constructor', ctx).message).toBe(
      "cannot read field 'constructor' of null at 1:1",
    );
    expect(ruleErr('s.length', ctx).message).toBe("cannot read field 'length' of a string at 1:1");
    expect(ruleErr('l.constructor', ctx).message).toBe("cannot read field 'constructor' of a list at 1:1");
    expect(ruleErr('constructor', ctx).code).toBe('E_UNKNOWN_NAME');
    expect(ruleErr('__proto__', ctx).code).toBe('E_UNKNOWN_NAME');
  });

  it('refuses class instances and functions from the context', () => {
    expect(ruleErr('d', { d: new Date(0) }).message).toBe(
      'an unsupported value (object) cannot be used in an expression at 1:1',
    );
    expect(ruleErr('f', { f: () => 1 }).code).toBe('E_TYPE');
    expect(ruleErr('o.m', { o: new Map() }).code).toBe('E_TYPE');
  });

  it('series have no fields', () => {
    const e = seriesErr('close.constructor');
    expect(e.code).toBe('E_TYPE');
    expect(e.message).toBe("cannot read field 'constructor' of a series at 1:7");
  });

  it('own __proto__ keys from JSON are plain data and pollute nothing', () => {
    const ctx = JSON.parse('{"x": {"__proto__": {"polluted": 1}}}') as Record<string, unknown>;
    expect(evaluateRule('x.__proto__.polluted', ctx)).toBe(1);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('errors: types, names, arity, periods, lengths', () => {
  it.each([
    ["sma('abc')", 'E_TYPE', "parameter 'period' of 'sma' must be a constant number, got a string at 1:5"],
    ["close + 'x'", 'E_TYPE', "'+' needs numbers or series, got a series and a string at 1:7"],
    ['1 + true', 'E_TYPE', "'+' needs numbers or series, got a number and a bool at 1:3"],
    ['not 1', 'E_TYPE', "'not' needs a boolean or series, got a number at 1:1"],
    ["'a' < 1", 'E_TYPE', "'<' needs two numbers, series or strings, got a string and a number at 1:5"],
    ["1 == 'a'", 'E_TYPE', "'==' needs values of the same type, got a number and a string at 1:3"],
    [
      "close in 'abc'",
      'E_TYPE',
      "'in' needs a list of numbers on the right, got a series and a string at 1:7",
    ],
    ['[close]', 'E_TYPE', 'a list cannot hold a series at 1:2'],
    ['smaa(close, 3)', 'E_UNKNOWN_FUNCTION', "unknown function 'smaa' at 1:1 — did you mean 'sma'?"],
    [
      'sma(close, perod=3)',
      'E_PARAM_INVALID',
      "unknown parameter 'perod' of 'sma' at 1:12 — did you mean 'period'?",
    ],
    ['clos > 1', 'E_UNKNOWN_NAME', "unknown name 'clos' at 1:1 — did you mean 'close'?"],
    [
      'sma(close, 20, 3)',
      'E_PARAM_INVALID',
      "'sma' takes at most 2 arguments, got 3 at 1:16 — usage: sma(series, period)",
    ],
    ['sma(close, 3, period=4)', 'E_PARAM_INVALID', "parameter 'period' of 'sma' given twice at 1:15"],
    [
      'sma(close, 0)',
      'E_PERIOD_INVALID',
      "parameter 'period' of 'sma' must be between 1 and 100000, got 0 at 1:12",
    ],
    [
      'sma(close, 2.5)',
      'E_PARAM_INVALID',
      "parameter 'period' of 'sma' must be a whole number, got 2.5 at 1:12",
    ],
    [
      'sma(close, close)',
      'E_TYPE',
      "parameter 'period' of 'sma' must be a constant number, got a series at 1:12",
    ],
    [
      'true_range(high, low, close)',
      'E_PARAM_INVALID',
      "'true_range' takes at most 0 arguments, got 3 at 1:12 — 'true_range' reads high, low, close from the dataset; pass only its parameters",
    ],
  ])('%s', (src, code, message) => {
    const e = seriesErr(src);
    expect(e.code).toBe(code);
    expect(e.message).toBe(message);
    expect(typeof e.details.frame).toBe('string');
  });

  it('a period longer than the input surfaces from the kernel with the position', () => {
    const e = seriesErr('close > sma(close, 500)');
    expect(e.code).toBe('E_PERIOD_INVALID');
    expect(e.message).toMatch(/^sma: .*500.* at 1:9$/);
    expect(e.details.frame).toBe('  close > sma(close, 500)\n          ^^^^^^^^^^^^^^^');
  });

  it('series of mismatched lengths are rejected where they meet', () => {
    const short = { close, volume: volume.slice(0, 150) };
    const e = seriesErr('close > 0 and volume > 0', short);
    expect(e.code).toBe('E_LENGTH_MISMATCH');
    expect(e.message).toBe('series of different lengths (200 and 150) at 1:1');
    const counter = countingIndicator('test_len');
    registerIndicator(counter);
    try {
      const f = seriesErr('sma(close, 3) + test_len(volume)', short);
      expect(f.code).toBe('E_LENGTH_MISMATCH');
    } finally {
      unregisterIndicator(counter.id);
    }
  });

  it('an unknown column names the nearest one', () => {
    expect(seriesErr('sma(volum, 3)').message).toBe("unknown name 'volum' at 1:5 — did you mean 'volume'?");
  });
});

/** Helpers (kept in this file: the test directory holds only test files). */
/** A three-output indicator: x+k, x, x-k with lookback `period - 1`. */
function bandsIndicator(id: string): Indicator {
  return {
    id,
    aliases: [],
    group: 'volatility',
    description: 'test: fixed-width bands',
    inputs: ['series'],
    params: [
      { name: 'period', type: 'int', default: 2, min: 1, max: 100, description: 'warm-up', window: true },
      { name: 'width', type: 'float', default: 1, min: 0, max: 100, description: 'half width' },
    ],
    outputs: ['upper', 'middle', 'lower'],
    lookback: (p) => (p.period ?? 2) - 1,
    compute(inputs, p) {
      const x = inputs[0];
      const lb = (p.period ?? 2) - 1;
      const k = p.width ?? 1;
      const mk = (f: (v: number) => number): Float64Array => x.map((v, i) => (i < lb ? NaN : f(v)));
      return [mk((v) => v + k), mk((v) => v), mk((v) => v - k)];
    },
  };
}

/** A deterministic price path. */
function prices(n: number, seed = 1): Float64Array {
  const out = new Float64Array(n);
  let x = 100;
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 16807) % 2147483647;
    x += (s / 2147483647 - 0.5) * 2;
    out[i] = x;
  }
  return out;
}

/** A one-series moving sum that counts its compute() calls. */
function countingIndicator(id: string): Indicator & { calls: number } {
  const ind = {
    calls: 0,
    id,
    aliases: [`${id}_alias`],
    group: 'primitive' as const,
    description: 'test: moving sum that counts invocations',
    inputs: ['series' as const],
    params: [
      {
        name: 'period',
        type: 'int' as const,
        default: 3,
        min: 1,
        max: 1000,
        description: 'window',
        window: true,
      },
    ],
    outputs: ['value'],
    lookback: (p: Partial<Record<string, number>>) => (p.period ?? 3) - 1,
    compute(inputs: readonly Float64Array[], p: Partial<Record<string, number>>): Float64Array[] {
      ind.calls++;
      const x = inputs[0];
      const period = p.period ?? 3;
      const out = new Float64Array(x.length).fill(NaN);
      for (let i = period - 1; i < x.length; i++) {
        let s = 0;
        for (let j = i - period + 1; j <= i; j++) s += x[j];
        out[i] = s;
      }
      return [out];
    },
  };
  return ind;
}
