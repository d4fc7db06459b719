// The three-series events (in_channel, out_channel, enter, exit: x, upper, lower) called
// through the expression language, against their kernels called directly.
import { describe, expect, it } from 'vitest';
import { TaError } from '../src/errors.js';
import { compileExpression, evaluateSeries } from '../src/expr/index.js';
import { getIndicator } from '../src/registry.js';

const N = 300;
// A wave around 100 that moves in and out of the channels below, with a missing bar.
const close = Float64Array.from({ length: N }, (_, i) => 100 + 8 * Math.sin(i / 7) + ((i * 13) % 5) - 2);
close[150] = NaN;
const upper = Float64Array.from({ length: N }, (_, i) => 104 + Math.cos(i / 11));
const lower = Float64Array.from({ length: N }, (_, i) => 96 - Math.cos(i / 13));
const data = { close, upper, lower };

const CHANNEL_EVENTS = ['in_channel', 'out_channel', 'enter', 'exit'] as const;

const kernel = (id: string, inputs: Float64Array[], params: Record<string, number> = {}): Float64Array =>
  getIndicator(id)!.compute(inputs, params)[0];
const filled = (v: number): Float64Array => new Float64Array(N).fill(v);

function series(src: string, dataset: Record<string, Float64Array> = data): Float64Array {
  const cols = Object.values(evaluateSeries(src, dataset).columns);
  expect(cols).toHaveLength(1);
  return cols[0];
}

function seriesErr(src: string, dataset: Record<string, Float64Array> = data): TaError {
  try {
    evaluateSeries(src, dataset);
  } catch (e) {
    expect(e).toBeInstanceOf(TaError);
    return e as TaError;
  }
  throw new Error(`expected ${src} to fail`);
}

describe('in_channel, out_channel, enter, exit in expressions', () => {
  it('the test data moves in and out of the channel', () => {
    const v = kernel('in_channel', [close, upper, lower]);
    expect(v.includes(1)).toBe(true);
    expect(v.includes(0)).toBe(true);
    expect(kernel('enter', [close, upper, lower]).includes(1)).toBe(true);
    expect(kernel('exit', [close, upper, lower]).includes(1)).toBe(true);
  });

  it.each(CHANNEL_EVENTS)('%s(close, upper, lower) over columns equals the kernel', (id) => {
    expect(series(`${id}(close, upper, lower)`)).toEqual(kernel(id, [close, upper, lower]));
  });

  it.each(CHANNEL_EVENTS)('%s(close, 104, 96) broadcasts the constants', (id) => {
    expect(series(`${id}(close, 104, 96)`)).toEqual(kernel(id, [close, filled(104), filled(96)]));
    // Folded constant expressions broadcast too; columns and constants mix.
    expect(series(`${id}(close, 100 + 4, lower)`)).toEqual(kernel(id, [close, filled(104), lower]));
    expect(series(`${id}(close, upper, 96)`)).toEqual(kernel(id, [close, upper, filled(96)]));
  });

  it.each(CHANNEL_EVENTS)('%s takes computed series: bands of another indicator', (id) => {
    const [bu, , bl] = getIndicator('bbands')!.compute([close], { period: 20, nbdevup: 2, nbdevdn: 2 });
    expect(series(`${id}(close, bbands(close, 20).upper, bbands(close, 20).lower)`)).toEqual(
      kernel(id, [close, bu, bl]),
    );
    const s = kernel('sma', [close], { period: 10 });
    const up = s.map((v) => v + 3);
    const lo = s.map((v) => v - 3);
    expect(series(`${id}(close, sma(close, 10) + 3, sma(close, 10) - 3)`)).toEqual(
      kernel(id, [close, up, lo]),
    );
  });

  it('reports the lookback of the channel inputs', () => {
    expect(evaluateSeries('in_channel(close, upper, lower)', data).lookback).toBe(0);
    expect(evaluateSeries('enter(close, upper, lower)', data).lookback).toBe(1);
    expect(evaluateSeries('exit(close, sma(close, 10) + 3, 96)', data).lookback).toBe(10);
  });

  it('compiles once and evaluates against other columns', () => {
    const c = compileExpression('out_channel(close, upper, 96)', { columns: ['close', 'upper'] });
    expect(c.type).toBe('series');
    const other = close.map((v) => v + 1);
    const r = c.evaluate({ columns: { close: other, upper } });
    expect(r).toEqual(kernel('out_channel', [other, upper, filled(96)]));
  });

  it('too few input series is an arity error naming the signature', () => {
    const e = seriesErr('in_channel(close, upper)');
    expect(e.code).toBe('E_PARAM_INVALID');
    expect(e.message).toBe(
      "'in_channel' needs 3 input series, got 2 at 1:1 — usage: in_channel(series, series2, series3)",
    );
    expect(seriesErr('enter(close)').message).toBe(
      "'enter' needs 3 input series, got 1 at 1:1 — usage: enter(series, series2, series3)",
    );
  });

  it('too many arguments is an arity error at the extra argument', () => {
    const e = seriesErr('exit(close, upper, lower, 3)');
    expect(e.code).toBe('E_PARAM_INVALID');
    expect(e.message).toBe(
      "'exit' takes at most 3 arguments, got 4 at 1:27 — usage: exit(series, series2, series3)",
    );
  });

  it('x must be a series: a constant first argument is not broadcast', () => {
    const e = seriesErr('in_channel(100, upper, lower)');
    expect(e.code).toBe('E_PARAM_INVALID');
    expect(e.message).toContain("'in_channel' needs 3 input series, got 0");
  });

  it('a multi-output indicator as a channel bound must select one output', () => {
    const e = seriesErr('in_channel(close, bbands(close, 20), lower)');
    expect(e.code).toBe('E_TYPE');
    expect(e.message).toBe("'bbands' has several outputs at 1:19 — select one: .upper, .middle, .lower");
  });
});
