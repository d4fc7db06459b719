/** Trend indicators. */
import { EmaCell } from '../cells.js';
import { defineIndicator, intParam, period, type BatonIndicator } from '../define.js';
import { emaBatch, smaBatch } from '../fast.js';
import { CellMachine, SERIES, VALUE } from './common.js';
import { SmaCell } from './primitives.js';

/** `seed` parameter shared by EMA-based indicators. */
export const SEED_PARAM = intParam(
  'seed',
  0,
  'EMA seeding: 0 = SMA of the first period (TA-Lib), 1 = first value (TradingView, Tulip)',
  0,
  1,
  false,
);

export const sma: BatonIndicator = defineIndicator({
  id: 'sma',
  aliases: [],
  group: 'trend',
  description: 'Simple moving average (TA-Lib SMA).',
  inputs: SERIES,
  params: [period(30)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CellMachine(new SmaCell(p.period)),
  batch: (ins, p) => [smaBatch(ins[0], p.period)],
});

export const ema: BatonIndicator = defineIndicator({
  id: 'ema',
  aliases: [],
  group: 'trend',
  description:
    'Exponential moving average, k = 2/(period+1). seed=0: SMA of the first period (TA-Lib); seed=1: first value (TradingView/Tulip, lookback 0).',
  inputs: SERIES,
  params: [period(30), SEED_PARAM],
  outputs: VALUE,
  lookback: (p) => (p.seed === 1 ? 0 : p.period - 1),
  machine: (p) => new CellMachine(new EmaCell(p.period, 2 / (p.period + 1), p.seed === 1)),
  batch: (ins, p) => [emaBatch(ins[0], p.period, 2 / (p.period + 1), p.seed === 1)],
});

export const TREND: readonly BatonIndicator[] = [sma, ema];
