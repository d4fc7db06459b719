/** Volatility indicators. */
import { EmaCell, ExtremeWindow, VarWindow } from '../cells.js';
import { defineIndicator, floatParam, intParam, period, type BatonIndicator } from '../define.js';
import { atrBatch, bbandsBatch } from '../fast.js';
import type { Machine } from '../machine.js';
import { HLC, SERIES, VALUE } from './common.js';
import { AtrCell } from './trend.js';

class AtrMachine implements Machine {
  atr: AtrCell;
  constructor(p: number) {
    this.atr = new AtrCell(p);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    outs[0][i] = this.atr.push3(ins[0][i], ins[1][i], ins[2][i]);
  }
}

export const atr: BatonIndicator = defineIndicator({
  id: 'atr',
  aliases: [],
  group: 'volatility',
  description: "Average true range with Wilder's smoothing (TA-Lib ATR); lookback = period.",
  inputs: HLC,
  params: [period(14)],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new AtrMachine(p.period),
  batch: (ins, p, out) => [atrBatch(ins[0], ins[1], ins[2], p.period, out?.[0])],
});

class BbandsMachine implements Machine {
  w: VarWindow;
  constructor(
    p: number,
    readonly up: number,
    readonly dn: number,
  ) {
    this.w = new VarWindow(p);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const v = this.w.push(ins[0][i]);
    if (v !== v) {
      outs[0][i] = outs[1][i] = outs[2][i] = NaN;
      return;
    }
    const m = this.w.mean;
    const sd = v < 1e-14 ? 0 : Math.sqrt(v);
    outs[0][i] = m + sd * this.up;
    outs[1][i] = m;
    outs[2][i] = m - sd * this.dn;
  }
}

export const bbands: BatonIndicator = defineIndicator({
  id: 'bbands',
  aliases: ['bollinger', 'bb'],
  group: 'volatility',
  description:
    'Bollinger bands: SMA ± nbdev·population standard deviation (TA-Lib BBANDS with MA type SMA; default period 5 as in TA-Lib).',
  inputs: SERIES,
  params: [
    period(5, 'Number of bars in the window', 2),
    floatParam('nbdevup', 2, 'Deviations above', -1e6, 1e6),
    floatParam('nbdevdn', 2, 'Deviations below', -1e6, 1e6),
  ],
  outputs: ['upper', 'middle', 'lower'],
  lookback: (p) => p.period - 1,
  machine: (p) => new BbandsMachine(p.period, p.nbdevup, p.nbdevdn),
  batch: (ins, p, out) => bbandsBatch(ins[0], p.period, p.nbdevup, p.nbdevdn, out),
});

class DonchianMachine implements Machine {
  hi: ExtremeWindow;
  lo: ExtremeWindow;
  constructor(p: number) {
    this.hi = new ExtremeWindow(p);
    this.lo = new ExtremeWindow(p, true);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const u = this.hi.push(ins[0][i]);
    const l = this.lo.push(ins[1][i]);
    outs[0][i] = u;
    outs[1][i] = (u + l) / 2;
    outs[2][i] = l;
  }
}

export const donchian: BatonIndicator = defineIndicator({
  id: 'donchian',
  aliases: [],
  group: 'volatility',
  description: 'Donchian channel: highest high, midpoint, lowest low over the window.',
  inputs: ['high', 'low'],
  params: [period(20)],
  outputs: ['upper', 'middle', 'lower'],
  lookback: (p) => p.period - 1,
  machine: (p) => new DonchianMachine(p.period),
});

class KeltnerMachine implements Machine {
  ema: EmaCell;
  atr: AtrCell;
  constructor(
    p: number,
    readonly mult: number,
    atrP: number,
  ) {
    this.ema = new EmaCell(p);
    this.atr = new AtrCell(atrP);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const m = this.ema.push(ins[2][i]);
    const a = this.atr.push3(ins[0][i], ins[1][i], ins[2][i]);
    const w = this.mult * a;
    if (m !== m || a !== a) {
      outs[0][i] = outs[1][i] = outs[2][i] = NaN;
      return;
    }
    outs[0][i] = m + w;
    outs[1][i] = m;
    outs[2][i] = m - w;
  }
}

export const keltner: BatonIndicator = defineIndicator({
  id: 'keltner',
  aliases: ['kc'],
  group: 'volatility',
  description:
    'Keltner channel: EMA(close, period) ± multiplier·ATR(atr_period) (TA-Lib-seeded EMA, Wilder ATR).',
  inputs: HLC,
  params: [
    period(20, 'EMA period'),
    floatParam('multiplier', 2, 'Band width in ATRs', -1e6, 1e6),
    intParam('atr_period', 10, 'ATR period'),
  ],
  outputs: ['upper', 'middle', 'lower'],
  lookback: (p) => Math.max(p.period - 1, p.atr_period),
  machine: (p) => new KeltnerMachine(p.period, p.multiplier, p.atr_period),
});

export const VOLATILITY: readonly BatonIndicator[] = [atr, bbands, donchian, keltner];
