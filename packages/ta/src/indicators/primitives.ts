/** Primitive rolling and element-wise kernels (laakhay-ta's primitives). */
import { EmaCell, ExtremeWindow, Ring, SumWindow, VarWindow, WilderCell } from '../cells.js';
import { defineIndicator, floatParam, period, type BatonIndicator } from '../define.js';
import type { Machine } from '../machine.js';
import { CellMachine, HLC, SERIES, VALUE } from './common.js';
import { smaBatch, sumBatch } from '../fast.js';

export const rolling_sum: BatonIndicator = defineIndicator({
  id: 'rolling_sum',
  aliases: ['summation'],
  group: 'primitive',
  description: 'Sum over a rolling window (TA-Lib SUM).',
  inputs: SERIES,
  params: [period(30)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CellMachine(new SumWindow(p.period)),
  batch: (ins, p, out) => [sumBatch(ins[0], p.period, false, out?.[0])],
});

export const rolling_mean: BatonIndicator = defineIndicator({
  id: 'rolling_mean',
  aliases: [],
  group: 'primitive',
  description: 'Mean over a rolling window; the same kernel as sma (TA-Lib SMA).',
  inputs: SERIES,
  params: [period(30)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CellMachine(new SmaCell(p.period)),
  batch: (ins, p, out) => [smaBatch(ins[0], p.period, out?.[0])],
});

/** SMA as a cell: the rolling sum divided by the period. */
export class SmaCell {
  w: SumWindow;
  constructor(readonly period: number) {
    this.w = new SumWindow(period);
  }
  push(x: number): number {
    return this.w.push(x) / this.period;
  }
}

/** Population standard deviation × nbdev in TA-Lib's STDDEV arithmetic (0 for variance below 1e-14). */
export class StdCell {
  w: VarWindow;
  constructor(
    readonly period: number,
    readonly nbdev: number,
  ) {
    this.w = new VarWindow(period);
  }
  push(x: number): number {
    const v = this.w.push(x);
    if (v !== v) return NaN;
    return v < 1e-14 ? 0 : Math.sqrt(v) * this.nbdev;
  }
}

export const rolling_std: BatonIndicator = defineIndicator({
  id: 'rolling_std',
  aliases: ['stddev'],
  group: 'primitive',
  description: 'Population standard deviation over a rolling window, times nbdev (TA-Lib STDDEV).',
  inputs: SERIES,
  params: [period(5), floatParam('nbdev', 1, 'Multiplier of the deviation', -1e6, 1e6)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CellMachine(new StdCell(p.period, p.nbdev)),
});

class MedianCell {
  ring: Ring;
  scratch: Float64Array;
  constructor(readonly period: number) {
    this.ring = new Ring(period);
    this.scratch = new Float64Array(period);
  }
  push(x: number): number {
    const r = this.ring;
    r.push(x);
    if (!r.full || r.nan > 0) return NaN;
    const s = this.scratch;
    s.set(r.buf);
    s.sort();
    const h = this.period >> 1;
    return this.period & 1 ? s[h] : (s[h - 1] + s[h]) / 2;
  }
}

export const rolling_median: BatonIndicator = defineIndicator({
  id: 'rolling_median',
  aliases: [],
  group: 'primitive',
  description: 'Median over a rolling window (mean of the two middle values for an even period).',
  inputs: SERIES,
  params: [period(20)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CellMachine(new MedianCell(p.period)),
});

function extreme(id: string, isMin: boolean, ta: string): BatonIndicator {
  return defineIndicator({
    id,
    aliases: [],
    group: 'primitive',
    description: `${isMin ? 'Lowest' : 'Highest'} value over a rolling window (TA-Lib ${ta}).`,
    inputs: SERIES,
    params: [period(30)],
    outputs: VALUE,
    lookback: (p) => p.period - 1,
    machine: (p) => new CellMachine(new ExtremeWindow(p.period, isMin)),
  });
}
export const rolling_max = extreme('rolling_max', false, 'MAX');
export const rolling_min = extreme('rolling_min', true, 'MIN');

/** Position of the extreme inside the window: 0 = oldest bar, period−1 = current bar. */
class ArgExtremeCell {
  w: ExtremeWindow;
  constructor(
    readonly period: number,
    isMin: boolean,
  ) {
    this.w = new ExtremeWindow(period, isMin);
  }
  push(x: number): number {
    const v = this.w.push(x);
    if (v !== v) return NaN;
    return this.w.idx - (this.w.t - this.period + 1);
  }
}

function argExtreme(id: string, isMin: boolean, ta: string): BatonIndicator {
  return defineIndicator({
    id,
    aliases: [],
    group: 'primitive',
    description: `Position of the ${isMin ? 'lowest' : 'highest'} value inside the rolling window, 0 = oldest bar, period−1 = current bar (TA-Lib ${ta} minus the window start; ties as TA-Lib).`,
    inputs: SERIES,
    params: [period(30)],
    outputs: VALUE,
    lookback: (p) => p.period - 1,
    machine: (p) => new CellMachine(new ArgExtremeCell(p.period, isMin)),
  });
}
export const rolling_argmax = argExtreme('rolling_argmax', false, 'MAXINDEX');
export const rolling_argmin = argExtreme('rolling_argmin', true, 'MININDEX');

export const rolling_ema: BatonIndicator = defineIndicator({
  id: 'rolling_ema',
  aliases: [],
  group: 'primitive',
  description:
    'Exponential moving average, k = 2/(period+1), seeded with the SMA of the first period (TA-Lib EMA). Same kernel as ema.',
  inputs: SERIES,
  params: [period(30)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CellMachine(new EmaCell(p.period)),
});

export const rolling_rma: BatonIndicator = defineIndicator({
  id: 'rolling_rma',
  aliases: ['rma', 'smma', 'wilders'],
  group: 'primitive',
  description: "Wilder's moving average (RMA): SMA seed, then (prev·(n−1)+x)/n, as in TA-Lib's RSI/ATR.",
  inputs: SERIES,
  params: [period(14)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CellMachine(new WilderCell(p.period)),
});

/** Keeps the value `lag` bars back (NaN-aware through the ring). */
class LagCell {
  ring: Ring;
  constructor(
    readonly lag: number,
    readonly mode: 0 | 1,
  ) {
    this.ring = new Ring(lag + 1);
  }
  push(x: number): number {
    const r = this.ring;
    r.push(x);
    if (!r.full) return NaN;
    const old = r.back(this.lag);
    return this.mode === 0 ? old : x - old;
  }
}

export const diff: BatonIndicator = defineIndicator({
  id: 'diff',
  aliases: ['change', 'mom'],
  group: 'primitive',
  description: 'x[t] − x[t−period] (TA-Lib MOM).',
  inputs: SERIES,
  params: [period(1, 'Lag in bars')],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new LagCell(p.period, 1)),
});

export const shift: BatonIndicator = defineIndicator({
  id: 'shift',
  aliases: ['lag'],
  group: 'primitive',
  description: 'x[t−period]: the series delayed by period bars.',
  inputs: SERIES,
  params: [period(1, 'Lag in bars')],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new LagCell(p.period, 0)),
});

class SignCell {
  push(x: number): number {
    return x > 0 ? 1 : x < 0 ? -1 : x === 0 ? 0 : NaN;
  }
}

export const sign: BatonIndicator = defineIndicator({
  id: 'sign',
  aliases: [],
  group: 'primitive',
  description: 'Sign of each value: 1, −1 or 0 (NaN stays NaN).',
  inputs: SERIES,
  params: [],
  outputs: VALUE,
  lookback: () => 0,
  machine: () => new CellMachine(new SignCell()),
});

/** Running total; a NaN input yields NaN and is skipped. */
export class CumSumCell {
  sum = 0;
  push(x: number): number {
    if (x !== x) return NaN;
    return (this.sum += x);
  }
}

export const cumulative_sum: BatonIndicator = defineIndicator({
  id: 'cumulative_sum',
  aliases: ['cumsum'],
  group: 'primitive',
  description: 'Running total since the first bar. NaN inputs give NaN and are skipped.',
  inputs: SERIES,
  params: [],
  outputs: VALUE,
  lookback: () => 0,
  machine: () => new CellMachine(new CumSumCell()),
});

/** True range of one bar given the previous close (TA-Lib TRANGE arithmetic). */
export function trueRange(h: number, l: number, pc: number): number {
  let out = h - l;
  const a = Math.abs(h - pc);
  if (a > out) out = a;
  const b = Math.abs(l - pc);
  if (b > out) out = b;
  return out;
}

/** True range as a cell over (high, low, close); NaN for the first bar and around NaN inputs. */
export class TrueRangeCell {
  prevClose = NaN;
  push3(h: number, l: number, c: number): number {
    const pc = this.prevClose;
    this.prevClose = c;
    if (pc !== pc || h !== h || l !== l || c !== c) return NaN;
    return trueRange(h, l, pc);
  }
}

class TrueRangeMachine implements Machine {
  tr = new TrueRangeCell();
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    outs[0][i] = this.tr.push3(ins[0][i], ins[1][i], ins[2][i]);
  }
}

export const true_range: BatonIndicator = defineIndicator({
  id: 'true_range',
  aliases: ['trange', 'tr'],
  group: 'primitive',
  description: 'True range: max(high−low, |high−prev close|, |low−prev close|) (TA-Lib TRANGE).',
  inputs: HLC,
  params: [],
  outputs: VALUE,
  lookback: () => 1,
  machine: () => new TrueRangeMachine(),
});

class TypicalPriceMachine implements Machine {
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    outs[0][i] = (ins[0][i] + ins[1][i] + ins[2][i]) / 3.0;
  }
}

export const typical_price: BatonIndicator = defineIndicator({
  id: 'typical_price',
  aliases: ['typprice', 'hlc3'],
  group: 'primitive',
  description: '(high + low + close) / 3 (TA-Lib TYPPRICE).',
  inputs: HLC,
  params: [],
  outputs: VALUE,
  lookback: () => 0,
  machine: () => new TypicalPriceMachine(),
});

export const PRIMITIVES: readonly BatonIndicator[] = [
  rolling_sum,
  rolling_mean,
  rolling_std,
  rolling_median,
  rolling_min,
  rolling_max,
  rolling_argmax,
  rolling_argmin,
  rolling_ema,
  rolling_rma,
  diff,
  shift,
  sign,
  cumulative_sum,
  true_range,
  typical_price,
];
