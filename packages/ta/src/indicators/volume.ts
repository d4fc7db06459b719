/** Volume indicators. */
import { EmaCell, SumWindow } from '../cells.js';
import { defineIndicator, intParam, period, type BatonIndicator } from '../define.js';
import type { Machine } from '../machine.js';
import { HLCV, VALUE } from './common.js';

class ObvMachine implements Machine {
  obv = NaN;
  prev = NaN;
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const c = ins[0][i];
    const v = ins[1][i];
    if (c !== c || v !== v) {
      outs[0][i] = NaN;
      return;
    }
    if (this.obv !== this.obv) this.obv = v;
    else if (c > this.prev) this.obv += v;
    else if (c < this.prev) this.obv -= v;
    this.prev = c;
    outs[0][i] = this.obv;
  }
}

export const obv: BatonIndicator = defineIndicator({
  id: 'obv',
  aliases: [],
  group: 'volume',
  description: 'On-balance volume, starting at the first bar’s volume (TA-Lib OBV).',
  inputs: ['close', 'volume'],
  params: [],
  outputs: VALUE,
  lookback: () => 0,
  machine: () => new ObvMachine(),
});

class VwapMachine implements Machine {
  pv: SumWindow | undefined;
  vv: SumWindow | undefined;
  cpv = 0;
  cv = 0;
  constructor(p: number) {
    if (p > 0) {
      this.pv = new SumWindow(p);
      this.vv = new SumWindow(p);
    }
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const tp = (ins[0][i] + ins[1][i] + ins[2][i]) / 3;
    const v = ins[3][i];
    const pv = tp * v;
    if (this.pv && this.vv) {
      const a = this.pv.push(pv);
      const b = this.vv.push(pv === pv ? v : NaN);
      outs[0][i] = a !== a || b === 0 ? NaN : a / b;
      return;
    }
    if (pv !== pv) {
      outs[0][i] = NaN;
      return;
    }
    this.cpv += pv;
    this.cv += v;
    outs[0][i] = this.cv === 0 ? NaN : this.cpv / this.cv;
  }
}

export const vwap: BatonIndicator = defineIndicator({
  id: 'vwap',
  aliases: [],
  group: 'volume',
  description:
    'Volume-weighted average of the typical price: cumulative from the first bar (period 0) or over a rolling window. NaN while the volume total is 0.',
  inputs: HLCV,
  params: [
    intParam(
      'period',
      0,
      '0 = cumulative since the first bar; n = rolling window of n bars',
      0,
      100_000,
      true,
    ),
  ],
  outputs: VALUE,
  lookback: (p) => (p.period > 0 ? p.period - 1 : 0),
  machine: (p) => new VwapMachine(p.period),
});

class CmfMachine implements Machine {
  mfv: SumWindow;
  vol: SumWindow;
  constructor(p: number) {
    this.mfv = new SumWindow(p);
    this.vol = new SumWindow(p);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const h = ins[0][i];
    const l = ins[1][i];
    const c = ins[2][i];
    const v = ins[3][i];
    const range = h - l;
    const mfm = range === 0 ? 0 : (c - l - (h - c)) / range;
    const a = this.mfv.push(mfm * v);
    const b = this.vol.push(c === c ? v : NaN);
    outs[0][i] = a !== a || b !== b ? NaN : b === 0 ? 0 : a / b;
  }
}

export const cmf: BatonIndicator = defineIndicator({
  id: 'cmf',
  aliases: [],
  group: 'volume',
  description:
    'Chaikin money flow: Σ(money-flow multiplier·volume) / Σ volume over the window; 0 when the volume total is 0.',
  inputs: HLCV,
  params: [period(20)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CmfMachine(p.period),
});

class KlingerMachine implements Machine {
  prev = NaN;
  fast: EmaCell;
  slow: EmaCell;
  sig: EmaCell;
  seen = 0;
  constructor(f: number, s: number, g: number) {
    this.fast = new EmaCell(f);
    this.slow = new EmaCell(s);
    this.sig = new EmaCell(g);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const tp = (ins[0][i] + ins[1][i] + ins[2][i]) / 3;
    const v = ins[3][i];
    outs[0][i] = outs[1][i] = NaN;
    if (tp !== tp || v !== v) return;
    const prev = this.prev;
    this.prev = tp;
    if (prev !== prev) return;
    const sv = tp - prev >= 0 ? v : -v;
    const kvo = this.fast.push(sv) - this.slow.push(sv);
    if (kvo !== kvo) return;
    const s = this.sig.push(kvo);
    if (s !== s) return;
    outs[0][i] = kvo;
    outs[1][i] = s;
  }
}

export const klinger: BatonIndicator = defineIndicator({
  id: 'klinger',
  aliases: ['kvo'],
  group: 'volume',
  description:
    'Klinger volume oscillator (TradingView form): signed volume (sign of the hlc3 change), EMA(fast) − EMA(slow), and its EMA(signal). SMA-seeded EMAs; both outputs start together.',
  inputs: HLCV,
  params: [
    intParam('fast_period', 34, 'Fast EMA period'),
    intParam('slow_period', 55, 'Slow EMA period'),
    intParam('signal_period', 13, 'Signal EMA period'),
  ],
  outputs: ['kvo', 'signal'],
  lookback: (p) => Math.max(p.fast_period, p.slow_period) + p.signal_period - 1,
  machine: (p) => new KlingerMachine(p.fast_period, p.slow_period, p.signal_period),
});

export const VOLUME: readonly BatonIndicator[] = [obv, vwap, cmf, klinger];
