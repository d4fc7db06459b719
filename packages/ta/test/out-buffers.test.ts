// Caller-owned output buffers (`{ out }`) for every indicator, and the expression evaluator's reuse
// of its intermediate buffers.
import { describe, expect, it } from 'vitest';
import {
  TaError,
  compileExpression,
  compute,
  ema,
  listIndicators,
  macd,
  registerIndicator,
  rsi,
  sma,
  unregisterIndicator,
  type Indicator,
} from '../src/index.js';
import { randomWalk, sameBits } from './arbitraries.js';

const N = 400;
const walk = (seed: number): Float64Array => randomWalk(N, seed);
const close = walk(1);
const columns: Record<string, Float64Array> = {
  close,
  open: close.map((c, i) => c + ((i % 3) - 1) * 0.2),
  high: close.map((c, i) => c + 0.5 + (i % 7) * 0.3),
  low: close.map((c, i) => c - 0.5 - (i % 5) * 0.3),
  volume: walk(2).map((v) => Math.abs(v) * 1000),
  series: close,
  series2: walk(3),
  series3: walk(3).map((v) => v - 10),
};
/** The same bars with holes: kernels take their NaN-aware loops. */
const holed = Object.fromEntries(
  Object.entries(columns).map(([k, v]) => {
    const c = Float64Array.from(v);
    for (const i of [40, 41, 170, 333]) c[i] = NaN;
    return [k, c];
  }),
);

function inputsOf(ind: Indicator, cols: Record<string, Float64Array>): Float64Array[] {
  return ind.inputs.map((name) => cols[name]!);
}

function taError(fn: () => unknown): TaError {
  try {
    fn();
  } catch (e) {
    if (e instanceof TaError) return e;
    throw e;
  }
  throw new Error('expected a TaError');
}

describe('caller-owned output buffers', () => {
  for (const [label, cols] of [
    ['clean bars', columns],
    ['bars with missing values', holed],
  ] as const) {
    it(`every indicator writes the same bits into reused buffers as into fresh ones (${label})`, () => {
      const checked: string[] = [];
      for (const ind of listIndicators()) {
        const ins = inputsOf(ind, cols);
        const fresh = ind.compute(ins, {});
        // stale contents from an earlier call: none may show through
        const out = ind.outputs.map(() => new Float64Array(N).fill(7.25));
        const got = ind.compute(ins, {}, { out });
        expect(got.length, ind.id).toBe(ind.outputs.length);
        got.forEach((g, k) => {
          expect(g, `${ind.id}.${ind.outputs[k]} is the caller's buffer`).toBe(out[k]);
          expect(sameBits(g, fresh[k]!), `${ind.id}.${ind.outputs[k]}`).toBe(true);
        });
        // a second call into the same buffers, with other parameters where the indicator has a period
        const periodic = ind.params.some((p) => p.name === 'period');
        if (periodic) {
          const again = ind.compute(ins, { period: 7 }, { out });
          const want = ind.compute(ins, { period: 7 });
          again.forEach((g, k) => expect(sameBits(g, want[k]!), `${ind.id} period 7`).toBe(true));
        }
        checked.push(ind.id);
      }
      expect(checked.length).toBe(listIndicators().length);
      expect(checked).toEqual(expect.arrayContaining(['sma', 'ema', 'rsi', 'atr', 'macd', 'bbands', 'adx']));
    });
  }

  it('the typed helpers and compute() take { out } too', () => {
    const buf = new Float64Array(N);
    expect(sma(close, { period: 20 }, { out: [buf] })).toBe(buf);
    expect(sameBits(buf, sma(close, { period: 20 }))).toBe(true);
    const m = [new Float64Array(N), new Float64Array(N), new Float64Array(N)];
    const r = macd(close, {}, { out: m });
    expect([r.macd, r.signal, r.histogram]).toEqual(m);
    expect(r.signal).toBe(m[1]);
    const named = compute('bbands', [close], { period: 10 }, { out: m });
    expect(named.upper).toBe(m[0]);
    expect(sameBits(named.lower, compute('bbands', [close], { period: 10 }).lower)).toBe(true);
  });

  it('refuses buffers of the wrong number, type or length, or sharing memory, and leaves the inputs alone', () => {
    const before = Float64Array.from(close);
    const cases: [() => unknown, RegExp][] = [
      [() => sma(close, {}, { out: [] }), /^sma: out must be an array of 1 Float64Array \(value\), got 0$/],
      [
        () => macd(close, {}, { out: [new Float64Array(N)] }),
        /^macd: out must be an array of 3 Float64Arrays \(macd, signal, histogram\), got 1$/,
      ],
      [
        () => sma(close, {}, { out: [new Float64Array(N - 1)] }),
        /^sma: out\[0\] \(value\) has 399 values but the inputs have 400; pass buffers of the inputs' length$/,
      ],
      [
        () => sma(close, {}, { out: [Array.from(close) as unknown as Float64Array] }),
        /^sma: out\[0\] \(value\) must be a Float64Array$/,
      ],
      [
        () => ema(close, {}, { out: [close] }),
        /shares memory with input "series"; outputs cannot be computed in place/,
      ],
      [
        () => {
          const shared = new Float64Array(N * 2);
          shared.set(close);
          return ema(shared.subarray(0, N), {}, { out: [shared.subarray(N - 1, 2 * N - 1)] });
        },
        /shares memory with input "series"/,
      ],
      [
        () => {
          const b = new Float64Array(N);
          return macd(close, {}, { out: [b, new Float64Array(N), b] });
        },
        /^macd: out\[2\] \(histogram\) shares memory with out\[0\] \(macd\); each output needs its own buffer$/,
      ],
    ];
    for (const [call, message] of cases) {
      const e = taError(call);
      expect(e.code).toBe('E_OUTPUT_INVALID');
      expect(e.message).toMatch(message);
    }
    expect(sameBits(close, before)).toBe(true);
    // adjacent, not overlapping, views of one buffer are fine
    const whole = new Float64Array(N * 2);
    whole.set(close);
    expect(sameBits(ema(whole.subarray(0, N), {}, { out: [whole.subarray(N)] }), ema(close))).toBe(true);
  });

  it("compute() copies a user indicator's results into the caller's buffers when it ignores { out }", () => {
    const doubler: Indicator = {
      id: 'test_out_doubler',
      aliases: [],
      group: 'primitive',
      description: 'x * 2, written into a new array whatever the caller passes',
      inputs: ['series'],
      params: [],
      outputs: ['value'],
      lookback: () => 0,
      compute: (ins) => [ins[0]!.map((v) => v * 2)],
    };
    registerIndicator(doubler);
    try {
      const buf = new Float64Array(N);
      const r = compute('test_out_doubler', [close], {}, { out: [buf] });
      expect(r.value).toBe(buf);
      expect(buf[10]).toBe(close[10]! * 2);
      expect(taError(() => compute('test_out_doubler', [close], {}, { out: [close] })).code).toBe(
        'E_OUTPUT_INVALID',
      );
    } finally {
      unregisterIndicator(doubler.id);
    }
  });
});

describe('the evaluator reuses its intermediate buffers', () => {
  const series = (source: string): Float64Array => {
    const v = compileExpression(source, { columns: ['close'] }).evaluate({ columns: { close } });
    if (!(v instanceof Float64Array)) throw new Error(`${source} gave no series`);
    return v;
  };

  /** An indicator that records which buffer each call wrote into: x + 1. */
  function probe(): Indicator & { calls: Float64Array[] } {
    const calls: Float64Array[] = [];
    return {
      calls,
      id: 'test_probe',
      aliases: [],
      group: 'primitive',
      description: 'x + 1, recording the output buffer',
      inputs: ['series'],
      params: [],
      outputs: ['value'],
      lookback: () => 0,
      compute: (ins, _p, options) => {
        const out = options?.out?.[0] ?? new Float64Array(ins[0]!.length);
        for (let i = 0; i < out.length; i++) out[i] = ins[0]![i]! + 1;
        calls.push(out);
        return [out];
      },
    };
  }

  it('a buffer whose last reader has run is written by a later node; the result and the columns are never reused', () => {
    const p = probe();
    registerIndicator(p);
    try {
      const before = Float64Array.from(close);
      const r = series('test_probe(test_probe(test_probe(test_probe(close))))');
      const [a, b, c, d] = p.calls;
      // a is dead once b is computed, so c writes into a; b is dead after c, so d writes into b
      expect(c).toBe(a);
      expect(d).toBe(b);
      expect(new Set(p.calls).size).toBe(2);
      expect(r).toBe(d);
      expect(r[5]).toBe(close[5]! + 4);
      expect(sameBits(close, before)).toBe(true);
    } finally {
      unregisterIndicator(p.id);
    }
  });

  it('a value read by several nodes is kept until the last of them has run', () => {
    const r = series('(sma(close, 3) + 1) * sma(close, 3) - ema(close, 4) / sma(close, 3)');
    const s = sma(close, { period: 3 });
    const e = ema(close, { period: 4 });
    const want = s.map((v, i) => (v + 1) * v - e[i]! / v);
    expect(sameBits(r, want)).toBe(true);
  });

  it('one output of a multi-output result stays intact while other nodes run', () => {
    const r = series('macd(close).signal + 0 * (sma(close, 5) - ema(close, 9) + rsi(close, 14))');
    const m = macd(close);
    const s5 = sma(close, { period: 5 });
    const e9 = ema(close, { period: 9 });
    const r14 = rsi(close, { period: 14 });
    const want = m.signal.map((v, i) => v + 0 * (s5[i]! - e9[i]! + r14[i]!));
    expect(sameBits(r, want)).toBe(true);
  });
});
