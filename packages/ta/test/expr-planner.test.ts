import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compileExpression, catalogOf, evaluatePlan, type Plan, type PlanNode } from '../src/expr/index.js';
import { getIndicator, listIndicators, registerIndicator, unregisterIndicator } from '../src/registry.js';
import type { Indicator } from '../src/indicator.js';

const COLS = ['open', 'high', 'low', 'close', 'volume'];
const plan = (src: string): Plan => compileExpression(src, { columns: COLS }).plan;
const count = (p: Plan, op: PlanNode['op']): number => p.nodes.filter((n) => n.op === op).length;

describe('constant folding', () => {
  it('folds arithmetic, comparisons, logic and lists', () => {
    expect(plan('1 + 2 * 3').nodes).toMatchObject([{ op: 'const', value: 7, type: 'scalar' }]);
    expect(plan("'a' == 'a' and not (2 < 1)").nodes).toMatchObject([{ op: 'const', value: true }]);
    expect(plan('[1, 2 + 3, -4]').nodes).toMatchObject([{ op: 'const', value: [1, 5, -4], type: 'list' }]);
    expect(plan("'b' in ['a', 'b']").nodes).toMatchObject([{ op: 'const', value: true }]);
    expect(plan('close * (2 + 2)').nodes.map((n) => n.op)).toEqual(['column', 'const', 'binary']);
  });

  it('folds parameter expressions into indicator parameters', () => {
    const p = plan('sma(close, 10 * 2)');
    expect(p.nodes.find((n) => n.op === 'indicator')).toMatchObject({ params: { period: 20 } });
  });

  it('leaves non-finite results to evaluation, so plans stay JSON', () => {
    const p = plan('1 / 0');
    expect(p.nodes[p.root].op).toBe('binary');
    expect(compileExpression('1 / 0').evaluate({})).toBe(Infinity);
  });
});

describe('common-subexpression elimination', () => {
  const counter = countingIndicator('test_cse_count');
  beforeAll(() => registerIndicator(counter));
  afterAll(() => unregisterIndicator(counter.id));

  it('computes a repeated indicator call once, however it is spelled', () => {
    const src =
      'test_cse_count(close, 20) + test_cse_count(20) * test_cse_count(close, period=20) - test_cse_count_alias(period = 10 + 10)';
    const compiled = compileExpression(src, { columns: COLS });
    expect(count(compiled.plan, 'indicator')).toBe(1);
    const close = prices(100);
    counter.calls = 0;
    const v = compiled.evaluate({ columns: { close } }) as Float64Array;
    expect(counter.calls).toBe(1);
    const s = counter.compute([close], { period: 20 })[0];
    expect(v[50]).toBeCloseTo(s[50] + s[50] * s[50] - s[50], 6);
  });

  it('shares identical operator subtrees and different parameters stay apart', () => {
    const p = plan('(close - open) / (close - open) + sma(close, 5) - sma(close, 6)');
    expect(p.nodes.filter((n) => n.op === 'binary' && n.operator === '-').length).toBe(2);
    expect(count(p, 'indicator')).toBe(2);
  });
});

describe('lookback planning', () => {
  const rsi = getIndicator('rsi') ?? fakeRsi();
  const catalog = catalogOf([...listIndicators().filter((i) => i.id !== 'rsi'), rsi]);
  const lb = (src: string): number => compileExpression(src, { columns: COLS, catalog }).lookback;

  it('takes the max across operands', () => {
    expect(lb('close > sma(close, 200) and rsi(close, 14) < 30')).toBe(199);
    expect(lb('close + 1')).toBe(0);
    expect(lb('sma(close, 5) - sma(close, 20)')).toBe(19);
  });

  it('adds lookbacks through nested indicators, as TA-Lib composes them', () => {
    expect(lb('sma(ema(close, 10), 5)')).toBe(13);
    expect(lb('sma(sma(sma(close, 3), 3), 3)')).toBe(6);
    expect(lb('ema(close, 10, seed=1)')).toBe(0);
  });

  it('records a lookback on every node', () => {
    const p = compileExpression('sma(ema(close, 10), 5) > close', { columns: COLS }).plan;
    expect(p.nodes.map((n) => [n.op, n.lookback])).toEqual([
      ['column', 0],
      ['indicator', 9],
      ['indicator', 13],
      ['binary', 13],
    ]);
  });
});

describe('serializable IR and plan', () => {
  it('round-trips through JSON and evaluates the same', () => {
    const src = "close > sma(close, 20) and (volume > 1000 or 'x' in ['x', 'y'])";
    const c = compileExpression(src, { columns: COLS });
    const ir = JSON.parse(JSON.stringify(c.ir));
    const reloaded = JSON.parse(JSON.stringify(c.plan)) as Plan;
    expect(ir).toEqual(c.ir);
    expect(reloaded).toEqual(c.plan);
    const close = prices(60);
    const volume = close.map((x) => x * 10);
    const direct = c.evaluate({ columns: { close, volume } });
    const again = evaluatePlan(reloaded, { columns: { close, volume } }, catalogOf(listIndicators()));
    expect(again).toEqual(direct);
  });

  it('types every IR node', () => {
    const c = compileExpression("x.y in ['a'] and close > 1", { columns: ['close'], variables: 'dynamic' });
    expect(c.type).toBe('series');
    expect(c.ir).toMatchObject({
      op: 'binary',
      type: 'series',
      left: { type: 'bool' },
      right: { type: 'series' },
    });
  });
});

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

/** A stand-in with TA-Lib's RSI lookback (period), used when the registry has no rsi yet. */
function fakeRsi(): Indicator {
  return {
    id: 'rsi',
    aliases: [],
    group: 'momentum',
    description: 'test stand-in with the lookback of RSI',
    inputs: ['series'],
    params: [
      { name: 'period', type: 'int', default: 14, min: 2, max: 100000, description: 'period', window: true },
    ],
    outputs: ['value'],
    lookback: (p) => p.period ?? 14,
    compute: (inputs, p) => {
      const lb = p.period ?? 14;
      return [inputs[0].map((_, i) => (i < lb ? NaN : 50))];
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
