/** Momentum indicators. */
import { ExtremeWindow, Ring, SumWindow } from '../cells.js';
import { defineIndicator, intParam, period, type BatonIndicator } from '../define.js';
import { gainLossBatch } from '../fast.js';
import type { Machine } from '../machine.js';
import { CellMachine, HLC, HLCV, SERIES, VALUE } from './common.js';
import { SmaCell, trueRange } from './primitives.js';
import { WmaCell } from './trend.js';

const isZero = (v: number): boolean => -1e-14 < v && v < 1e-14;

/** Wilder-smoothed gains and losses: RSI or CMO in TA-Lib's arithmetic. */
export class GainLossCell {
  prev = NaN;
  cnt = 0;
  gain = 0;
  loss = 0;
  constructor(
    readonly period: number,
    readonly cmo: boolean,
  ) {}
  push(x: number): number {
    if (x !== x) return NaN;
    if (this.prev !== this.prev) {
      this.prev = x;
      return NaN;
    }
    const p = this.period;
    const d = x - this.prev;
    this.prev = x;
    if (this.cnt < p) {
      if (d < 0) this.loss -= d;
      else this.gain += d;
      if (++this.cnt < p) return NaN;
    } else {
      this.loss *= p - 1;
      this.gain *= p - 1;
      if (d < 0) this.loss -= d;
      else this.gain += d;
    }
    this.loss /= p;
    this.gain /= p;
    const s = this.gain + this.loss;
    return isZero(s) ? 0 : this.cmo ? 100.0 * ((this.gain - this.loss) / s) : 100.0 * (this.gain / s);
  }
}

export const rsi: BatonIndicator = defineIndicator({
  id: 'rsi',
  aliases: [],
  group: 'momentum',
  description: "Relative strength index with Wilder's smoothing (TA-Lib RSI).",
  inputs: SERIES,
  params: [period(14, 'Wilder smoothing period', 2)],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new GainLossCell(p.period, false)),
  batch: (ins, p, out) => [gainLossBatch(ins[0], p.period, false, out?.[0])],
});

export const cmo: BatonIndicator = defineIndicator({
  id: 'cmo',
  aliases: [],
  group: 'momentum',
  description: 'Chande momentum oscillator, Wilder-smoothed gains and losses (TA-Lib CMO).',
  inputs: SERIES,
  params: [period(14, 'Wilder smoothing period', 2)],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new GainLossCell(p.period, true)),
  batch: (ins, p, out) => [gainLossBatch(ins[0], p.period, true, out?.[0])],
});

class StochMachine implements Machine {
  hi: ExtremeWindow;
  lo: ExtremeWindow;
  k: SmaCell;
  d: SmaCell;
  constructor(fk: number, sk: number, sd: number) {
    this.hi = new ExtremeWindow(fk);
    this.lo = new ExtremeWindow(fk, true);
    this.k = new SmaCell(sk);
    this.d = new SmaCell(sd);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const hh = this.hi.push(ins[0][i]);
    const ll = this.lo.push(ins[1][i]);
    const c = ins[2][i];
    let fastK = NaN;
    if (hh === hh && ll === ll && c === c) {
      const diff = (hh - ll) / 100.0;
      fastK = diff !== 0.0 ? (c - ll) / diff : 0.0;
    } else if (!this.hi.ring.full) {
      // Warm-up: keep the smoothing windows empty so their warm-up starts here.
      outs[0][i] = outs[1][i] = NaN;
      return;
    }
    const k = this.k.push(fastK);
    if (k !== k && !this.k.w.ring.full) {
      outs[0][i] = outs[1][i] = NaN;
      return;
    }
    const d = this.d.push(k);
    if (d !== d) outs[0][i] = outs[1][i] = NaN;
    else {
      outs[0][i] = k;
      outs[1][i] = d;
    }
  }
}

export const stochastic: BatonIndicator = defineIndicator({
  id: 'stochastic',
  aliases: ['stoch'],
  group: 'momentum',
  description:
    'Slow stochastic oscillator (TA-Lib STOCH with SMA smoothing): k = SMA(fast %K, slowk_period), d = SMA(k, slowd_period). Both start together, as in TA-Lib.',
  inputs: HLC,
  params: [
    intParam('fastk_period', 5, 'Window of the raw %K'),
    intParam('slowk_period', 3, 'SMA period of %K'),
    intParam('slowd_period', 3, 'SMA period of %D'),
  ],
  outputs: ['k', 'd'],
  lookback: (p) => p.fastk_period - 1 + p.slowk_period - 1 + p.slowd_period - 1,
  machine: (p) => new StochMachine(p.fastk_period, p.slowk_period, p.slowd_period),
});

class CciMachine implements Machine {
  ring: Ring;
  constructor(readonly period: number) {
    this.ring = new Ring(period);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const last = (ins[0][i] + ins[1][i] + ins[2][i]) / 3;
    const r = this.ring;
    r.push(last);
    if (!r.full || r.nan > 0) {
      outs[0][i] = NaN;
      return;
    }
    // TA-Lib sums the circular buffer in storage order; keep that order for parity.
    const p = this.period;
    const b = r.buf;
    let avg = 0;
    for (let j = 0; j < p; j++) avg += b[j];
    avg /= p;
    let dev = 0;
    for (let j = 0; j < p; j++) dev += Math.abs(b[j] - avg);
    const t = last - avg;
    outs[0][i] = t !== 0.0 && dev !== 0.0 ? t / (0.015 * (dev / p)) : 0.0;
  }
}

export const cci: BatonIndicator = defineIndicator({
  id: 'cci',
  aliases: [],
  group: 'momentum',
  description: 'Commodity channel index over the typical price (TA-Lib CCI).',
  inputs: HLC,
  params: [period(14, 'Number of bars in the window', 2)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CciMachine(p.period),
});

class RocCell {
  ring: Ring;
  constructor(readonly period: number) {
    this.ring = new Ring(period + 1);
  }
  push(x: number): number {
    const r = this.ring;
    r.push(x);
    if (!r.full) return NaN;
    const old = r.back(this.period);
    if (old !== old || x !== x) return NaN;
    return old !== 0.0 ? (x / old - 1.0) * 100.0 : 0.0;
  }
}

export const roc: BatonIndicator = defineIndicator({
  id: 'roc',
  aliases: [],
  group: 'momentum',
  description: 'Rate of change in percent: (x/x[t−period] − 1)·100, 0 when the old value is 0 (TA-Lib ROC).',
  inputs: SERIES,
  params: [period(10, 'Lag in bars')],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new RocCell(p.period)),
});

class WillrMachine implements Machine {
  hi: ExtremeWindow;
  lo: ExtremeWindow;
  constructor(p: number) {
    this.hi = new ExtremeWindow(p);
    this.lo = new ExtremeWindow(p, true);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const hh = this.hi.push(ins[0][i]);
    const ll = this.lo.push(ins[1][i]);
    const c = ins[2][i];
    if (hh !== hh || ll !== ll || c !== c) {
      outs[0][i] = NaN;
      return;
    }
    const diff = (hh - ll) / -100.0;
    outs[0][i] = diff !== 0.0 ? (hh - c) / diff : 0.0;
  }
}

export const williams_r: BatonIndicator = defineIndicator({
  id: 'williams_r',
  aliases: ['willr'],
  group: 'momentum',
  description: "Williams' %R, from −100 to 0 (TA-Lib WILLR).",
  inputs: HLC,
  params: [period(14)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new WillrMachine(p.period),
});

class AoMachine implements Machine {
  f: SmaCell;
  s: SmaCell;
  constructor(fast: number, slow: number) {
    this.f = new SmaCell(fast);
    this.s = new SmaCell(slow);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const mid = (ins[0][i] + ins[1][i]) / 2;
    outs[0][i] = this.f.push(mid) - this.s.push(mid);
  }
}

export const ao: BatonIndicator = defineIndicator({
  id: 'ao',
  aliases: ['awesome_oscillator'],
  group: 'momentum',
  description: 'Awesome oscillator: SMA(hl2, fast) − SMA(hl2, slow).',
  inputs: ['high', 'low'],
  params: [intParam('fast_period', 5, 'Fast SMA period'), intParam('slow_period', 34, 'Slow SMA period')],
  outputs: VALUE,
  lookback: (p) => Math.max(p.fast_period, p.slow_period) - 1,
  machine: (p) => new AoMachine(p.fast_period, p.slow_period),
});

class CoppockCell {
  r1: RocCell;
  r2: RocCell;
  w: WmaCell;
  constructor(
    wma: number,
    readonly roc1: number,
    readonly roc2: number,
  ) {
    this.r1 = new RocCell(roc1);
    this.r2 = new RocCell(roc2);
    this.w = new WmaCell(wma);
  }
  push(x: number): number {
    const s = this.r1.push(x) + this.r2.push(x);
    if (s !== s && !(this.r1.ring.full && this.r2.ring.full)) return NaN;
    return this.w.push(s);
  }
}

export const coppock: BatonIndicator = defineIndicator({
  id: 'coppock',
  aliases: [],
  group: 'momentum',
  description: 'Coppock curve: WMA(ROC(long) + ROC(short), wma_period), ROC in percent as TA-Lib ROC.',
  inputs: SERIES,
  params: [
    intParam('wma_period', 10, 'WMA period'),
    intParam('long_roc_period', 14, 'Long ROC lag'),
    intParam('short_roc_period', 11, 'Short ROC lag'),
  ],
  outputs: VALUE,
  lookback: (p) => Math.max(p.long_roc_period, p.short_roc_period) + p.wma_period - 1,
  machine: (p) => new CellMachine(new CoppockCell(p.wma_period, p.long_roc_period, p.short_roc_period)),
});

class MfiMachine implements Machine {
  pos: SumWindow;
  neg: SumWindow;
  prev = NaN;
  constructor(readonly period: number) {
    this.pos = new SumWindow(period);
    this.neg = new SumWindow(period);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const tp = (ins[0][i] + ins[1][i] + ins[2][i]) / 3.0;
    const prev = this.prev;
    this.prev = tp;
    outs[0][i] = NaN;
    if (prev !== prev && tp === tp && !this.pos.ring.count) return;
    const d = tp - prev;
    const mf = tp * ins[3][i];
    let ps = NaN;
    let ns = NaN;
    if (d === d && mf === mf) {
      ps = d > 0 ? mf : 0.0;
      ns = d < 0 ? mf : 0.0;
    }
    const pos = this.pos.push(ps);
    const neg = this.neg.push(ns);
    if (pos !== pos || neg !== neg) return;
    const total = pos + neg;
    outs[0][i] = total < 1.0 ? 0.0 : 100.0 * (pos / total);
  }
}

export const mfi: BatonIndicator = defineIndicator({
  id: 'mfi',
  aliases: [],
  group: 'momentum',
  description:
    'Money flow index (TA-Lib MFI): 100·positive/(positive+negative) money flow over the window; 0 when the total is below 1.',
  inputs: HLCV,
  params: [period(14, 'Number of bars in the window', 2)],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new MfiMachine(p.period),
});

class VortexMachine implements Machine {
  vp: SumWindow;
  vm: SumWindow;
  tr: SumWindow;
  ph = NaN;
  pl = NaN;
  pc = NaN;
  constructor(p: number) {
    this.vp = new SumWindow(p);
    this.vm = new SumWindow(p);
    this.tr = new SumWindow(p);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const h = ins[0][i];
    const l = ins[1][i];
    const c = ins[2][i];
    const first = this.ph !== this.ph && this.vp.ring.count === 0;
    const vmp = Math.abs(h - this.pl);
    const vmm = Math.abs(l - this.ph);
    const tr = trueRange(h, l, this.pc);
    const trv = h === h && l === l && this.pc === this.pc ? tr : NaN;
    this.ph = h;
    this.pl = l;
    this.pc = c;
    if (first) {
      outs[0][i] = outs[1][i] = NaN;
      return;
    }
    const sp = this.vp.push(vmp);
    const sm = this.vm.push(vmm);
    const st = this.tr.push(trv);
    outs[0][i] = sp / st;
    outs[1][i] = sm / st;
  }
}

export const vortex: BatonIndicator = defineIndicator({
  id: 'vortex',
  aliases: [],
  group: 'momentum',
  description:
    'Vortex indicator: VI+ = Σ|high − prev low| / Σ true range, VI− = Σ|low − prev high| / Σ true range.',
  inputs: HLC,
  params: [period(14)],
  outputs: ['plus', 'minus'],
  lookback: (p) => p.period,
  machine: (p) => new VortexMachine(p.period),
});

export const MOMENTUM: readonly BatonIndicator[] = [
  rsi,
  stochastic,
  cci,
  roc,
  williams_r,
  cmo,
  ao,
  coppock,
  mfi,
  vortex,
];
