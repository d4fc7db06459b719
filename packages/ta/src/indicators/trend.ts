/** Trend indicators. */
import { EmaCell, ExtremeWindow, Ring, WilderCell } from '../cells.js';
import { defineIndicator, floatParam, intParam, period, type BatonIndicator } from '../define.js';
import { adxBatch, emaBatch, macdBatch, smaBatch } from '../fast.js';
import type { Machine } from '../machine.js';
import { CellMachine, HLC, SERIES, VALUE } from './common.js';
import { SmaCell, TrueRangeCell, trueRange } from './primitives.js';

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
  batch: (ins, p, out) => [smaBatch(ins[0], p.period, out?.[0])],
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
  batch: (ins, p, out) => [emaBatch(ins[0], p.period, 2 / (p.period + 1), p.seed === 1, out?.[0])],
});

/** Weighted moving average in TA-Lib's running form (periodSum/periodSub). */
export class WmaCell {
  ring: Ring;
  sub = 0;
  sum = 0;
  trail = 0;
  readonly div: number;
  constructor(readonly period: number) {
    this.ring = new Ring(period);
    this.div = (period * (period + 1)) / 2;
  }
  push(x: number): number {
    const r = this.ring;
    r.push(x);
    const v = x === x ? x : 0;
    if (!r.full) {
      this.sub += v;
      this.sum += v * r.count;
      return NaN;
    }
    this.sub += v;
    this.sub -= this.trail;
    this.sum += v * this.period;
    const t = r.buf[r.pos];
    this.trail = t === t ? t : 0;
    const out = r.nan > 0 ? NaN : this.sum / this.div;
    this.sum -= this.sub;
    return out;
  }
}

export const wma: BatonIndicator = defineIndicator({
  id: 'wma',
  aliases: [],
  group: 'trend',
  description: 'Linearly weighted moving average, weights 1..period (TA-Lib WMA).',
  inputs: SERIES,
  params: [period(30)],
  outputs: VALUE,
  lookback: (p) => p.period - 1,
  machine: (p) => new CellMachine(new WmaCell(p.period)),
});

class HmaCell {
  half: WmaCell;
  full: WmaCell;
  outer: WmaCell;
  constructor(p: number) {
    this.half = new WmaCell(Math.floor(p / 2));
    this.full = new WmaCell(p);
    this.outer = new WmaCell(Math.floor(Math.sqrt(p)));
  }
  push(x: number): number {
    const a = this.half.push(x);
    const b = this.full.push(x);
    const raw = 2 * a - b;
    // Feed the outer WMA only once the inner ones are warm, so its warm-up starts there.
    if (raw !== raw && !(this.full.ring.full && this.half.ring.full)) return NaN;
    return this.outer.push(raw);
  }
}

export const hma: BatonIndicator = defineIndicator({
  id: 'hma',
  aliases: ['hull'],
  group: 'trend',
  description: 'Hull moving average: WMA(2·WMA(x, ⌊n/2⌋) − WMA(x, n), ⌊√n⌋).',
  inputs: SERIES,
  params: [period(9, 'Number of bars in the window', 2)],
  outputs: VALUE,
  lookback: (p) => p.period - 1 + Math.floor(Math.sqrt(p.period)) - 1,
  machine: (p) => new CellMachine(new HmaCell(p.period)),
});

/** MACD as TA-Lib computes it: the fast EMA is seeded so it starts on the slow EMA's first bar. */
export class MacdMachine implements Machine {
  fast: EmaCell;
  slow: EmaCell;
  sig: EmaCell;
  seen = 0;
  readonly skip: number;
  constructor(fastP: number, slowP: number, signalP: number) {
    if (slowP < fastP) [fastP, slowP] = [slowP, fastP];
    this.fast = new EmaCell(fastP);
    this.slow = new EmaCell(slowP);
    this.sig = new EmaCell(signalP);
    this.skip = slowP - fastP;
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const x = ins[0][i];
    let m = NaN;
    let s = NaN;
    if (x === x) {
      this.seen++;
      const f = this.seen > this.skip ? this.fast.push(x) : NaN;
      const sl = this.slow.push(x);
      if (sl === sl) {
        m = f - sl;
        s = this.sig.push(m);
      }
    }
    if (s !== s) outs[0][i] = outs[1][i] = outs[2][i] = NaN;
    else {
      outs[0][i] = m;
      outs[1][i] = s;
      outs[2][i] = m - s;
    }
  }
}

export const macd: BatonIndicator = defineIndicator({
  id: 'macd',
  aliases: [],
  group: 'trend',
  description:
    'Moving average convergence/divergence (TA-Lib MACD): EMA(fast) − EMA(slow), its EMA(signal), and the difference. All three outputs start together, as in TA-Lib.',
  inputs: SERIES,
  params: [
    intParam('fast_period', 12, 'Fast EMA period', 2),
    intParam('slow_period', 26, 'Slow EMA period', 2),
    intParam('signal_period', 9, 'Signal EMA period', 1),
  ],
  outputs: ['macd', 'signal', 'histogram'],
  lookback: (p) => Math.max(p.fast_period, p.slow_period) - 1 + p.signal_period - 1,
  machine: (p) => new MacdMachine(p.fast_period, p.slow_period, p.signal_period),
  batch: (ins, p, out) => macdBatch(ins[0], p.fast_period, p.slow_period, p.signal_period, out),
});

const isZero = (v: number): boolean => -1e-14 < v && v < 1e-14;

/** ADX, +DI and −DI in TA-Lib's arithmetic (Wilder sums, ADX lookback 2n−1). */
export class AdxMachine implements Machine {
  t = 0;
  ph = NaN;
  pl = NaN;
  pc = NaN;
  pdm = 0;
  mdm = 0;
  tr = 0;
  sumDx = 0;
  adx = NaN;
  constructor(readonly n: number) {}
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const h = ins[0][i];
    const l = ins[1][i];
    const c = ins[2][i];
    outs[0][i] = outs[1][i] = outs[2][i] = NaN;
    if (h !== h || l !== l || c !== c) return;
    const n = this.n;
    const idx = this.t++;
    if (idx === 0) {
      this.ph = h;
      this.pl = l;
      this.pc = c;
      return;
    }
    const diffP = h - this.ph;
    const diffM = this.pl - l;
    this.ph = h;
    this.pl = l;
    const tr = trueRange(h, l, this.pc);
    this.pc = c;
    if (idx < n) {
      if (diffM > 0 && diffP < diffM) this.mdm += diffM;
      else if (diffP > 0 && diffP > diffM) this.pdm += diffP;
      this.tr += tr;
      return;
    }
    this.mdm -= this.mdm / n;
    this.pdm -= this.pdm / n;
    if (diffM > 0 && diffP < diffM) this.mdm += diffM;
    else if (diffP > 0 && diffP > diffM) this.pdm += diffP;
    this.tr = this.tr - this.tr / n + tr;
    let dx = NaN;
    if (!isZero(this.tr)) {
      const mdi = 100.0 * (this.mdm / this.tr);
      const pdi = 100.0 * (this.pdm / this.tr);
      outs[1][i] = pdi;
      outs[2][i] = mdi;
      const s = mdi + pdi;
      if (!isZero(s)) dx = 100.0 * (Math.abs(mdi - pdi) / s);
    } else {
      outs[1][i] = 0;
      outs[2][i] = 0;
    }
    if (idx < 2 * n - 1) {
      if (dx === dx) this.sumDx += dx;
      return;
    }
    if (idx === 2 * n - 1) {
      if (dx === dx) this.sumDx += dx;
      this.adx = this.sumDx / n;
    } else if (dx === dx) {
      this.adx = (this.adx * (n - 1) + dx) / n;
    }
    outs[0][i] = this.adx;
  }
}

export const adx: BatonIndicator = defineIndicator({
  id: 'adx',
  aliases: ['dmi'],
  group: 'trend',
  description:
    'Average directional index with +DI and −DI (TA-Lib ADX, PLUS_DI, MINUS_DI). adx starts at bar 2n−1, the DIs at bar n.',
  inputs: HLC,
  params: [period(14, 'Wilder smoothing period', 2)],
  outputs: ['adx', 'plus_di', 'minus_di'],
  lookback: (p) => 2 * p.period - 1,
  machine: (p) => new AdxMachine(p.period),
  batch: (ins, p, out) => adxBatch(ins[0], ins[1], ins[2], p.period, out),
});

class IchimokuMachine implements Machine {
  th: ExtremeWindow;
  tl: ExtremeWindow;
  kh: ExtremeWindow;
  kl: ExtremeWindow;
  sh: ExtremeWindow;
  sl: ExtremeWindow;
  da: Ring;
  db: Ring;
  constructor(
    tenkan: number,
    kijun: number,
    senkou: number,
    readonly disp: number,
  ) {
    this.th = new ExtremeWindow(tenkan);
    this.tl = new ExtremeWindow(tenkan, true);
    this.kh = new ExtremeWindow(kijun);
    this.kl = new ExtremeWindow(kijun, true);
    this.sh = new ExtremeWindow(senkou);
    this.sl = new ExtremeWindow(senkou, true);
    this.da = new Ring(disp + 1);
    this.db = new Ring(disp + 1);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const h = ins[0][i];
    const l = ins[1][i];
    const tenkan = (this.th.push(h) + this.tl.push(l)) / 2;
    const kijun = (this.kh.push(h) + this.kl.push(l)) / 2;
    const spanB = (this.sh.push(h) + this.sl.push(l)) / 2;
    this.da.push((tenkan + kijun) / 2);
    this.db.push(spanB);
    outs[0][i] = tenkan;
    outs[1][i] = kijun;
    outs[2][i] = this.da.full ? this.da.back(this.disp) : NaN;
    outs[3][i] = this.db.full ? this.db.back(this.disp) : NaN;
  }
}

export const ichimoku: BatonIndicator = defineIndicator({
  id: 'ichimoku',
  aliases: [],
  group: 'trend',
  description:
    'Ichimoku cloud: tenkan and kijun (midpoints of the highest high and lowest low), and the two senkou spans as they apply at each bar (computed `displacement` bars earlier). No chikou line: it would need future data.',
  inputs: ['high', 'low'],
  params: [
    intParam('tenkan_period', 9, 'Conversion line window'),
    intParam('kijun_period', 26, 'Base line window'),
    intParam('senkou_period', 52, 'Leading span B window'),
    intParam('displacement', 26, 'Bars the spans are shifted forward', 0, 100_000, false),
  ],
  outputs: ['tenkan', 'kijun', 'senkou_a', 'senkou_b'],
  lookback: (p) => Math.max(p.tenkan_period, p.kijun_period, p.senkou_period) - 1 + p.displacement,
  machine: (p) => new IchimokuMachine(p.tenkan_period, p.kijun_period, p.senkou_period, p.displacement),
});

/** Parabolic SAR, TA-Lib's algorithm (initial direction from −DM of the first two bars). */
class PsarMachine implements Machine {
  t = 0;
  isLong = true;
  af: number;
  ep = NaN;
  sar = NaN;
  lastHigh = NaN;
  lastLow = NaN;
  constructor(
    readonly accel: number,
    readonly max: number,
  ) {
    this.af = accel;
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const newHigh = ins[0][i];
    const newLow = ins[1][i];
    outs[0][i] = NaN;
    if (newHigh !== newHigh || newLow !== newLow) return;
    const idx = this.t++;
    if (idx === 0) {
      this.lastHigh = newHigh;
      this.lastLow = newLow;
      return;
    }
    if (idx === 1) {
      const diffP = newHigh - this.lastHigh;
      const diffM = this.lastLow - newLow;
      const minusDm = diffM > 0 && diffP < diffM ? diffM : 0;
      this.isLong = !(minusDm > 0);
      if (this.isLong) {
        this.ep = newHigh;
        this.sar = this.lastLow;
      } else {
        this.ep = newLow;
        this.sar = this.lastHigh;
      }
      this.lastHigh = newHigh;
      this.lastLow = newLow;
    }
    const prevHigh = this.lastHigh;
    const prevLow = this.lastLow;
    const acc = this.accel;
    const max = this.max;
    let sar = this.sar;
    if (this.isLong) {
      if (newLow <= sar) {
        this.isLong = false;
        sar = this.ep;
        if (sar < prevHigh) sar = prevHigh;
        if (sar < newHigh) sar = newHigh;
        outs[0][i] = sar;
        this.af = acc;
        this.ep = newLow;
        sar = sar + this.af * (this.ep - sar);
        if (sar < prevHigh) sar = prevHigh;
        if (sar < newHigh) sar = newHigh;
      } else {
        outs[0][i] = sar;
        if (newHigh > this.ep) {
          this.ep = newHigh;
          this.af += acc;
          if (this.af > max) this.af = max;
        }
        sar = sar + this.af * (this.ep - sar);
        if (sar > prevLow) sar = prevLow;
        if (sar > newLow) sar = newLow;
      }
    } else if (newHigh >= sar) {
      this.isLong = true;
      sar = this.ep;
      if (sar > prevLow) sar = prevLow;
      if (sar > newLow) sar = newLow;
      outs[0][i] = sar;
      this.af = acc;
      this.ep = newHigh;
      sar = sar + this.af * (this.ep - sar);
      if (sar > prevLow) sar = prevLow;
      if (sar > newLow) sar = newLow;
    } else {
      outs[0][i] = sar;
      if (newLow < this.ep) {
        this.ep = newLow;
        this.af += acc;
        if (this.af > max) this.af = max;
      }
      sar = sar + this.af * (this.ep - sar);
      if (sar < prevHigh) sar = prevHigh;
      if (sar < newHigh) sar = newHigh;
    }
    this.sar = sar;
    this.lastHigh = newHigh;
    this.lastLow = newLow;
  }
}

export const psar: BatonIndicator = defineIndicator({
  id: 'psar',
  aliases: ['sar'],
  group: 'trend',
  description: 'Parabolic SAR (TA-Lib SAR). The acceleration is capped at the maximum.',
  inputs: ['high', 'low'],
  params: [
    floatParam('acceleration', 0.02, 'Acceleration factor step', 0, 1e6),
    floatParam('maximum', 0.2, 'Acceleration factor cap', 0, 1e6),
  ],
  outputs: VALUE,
  lookback: () => 1,
  machine: (p) => new PsarMachine(Math.min(p.acceleration, p.maximum), p.maximum),
});

/** ATR as a cell over (high, low, close): Wilder smoothing of the true range (TA-Lib ATR). */
export class AtrCell {
  tr = new TrueRangeCell();
  w: WilderCell;
  constructor(readonly period: number) {
    this.w = new WilderCell(period);
  }
  push3(h: number, l: number, c: number): number {
    return this.w.push(this.tr.push3(h, l, c));
  }
}

class SupertrendMachine implements Machine {
  atr: AtrCell;
  fu = NaN;
  fl = NaN;
  pc = NaN;
  dir = 0;
  constructor(
    period: number,
    readonly mult: number,
  ) {
    this.atr = new AtrCell(period);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const h = ins[0][i];
    const l = ins[1][i];
    const c = ins[2][i];
    const a = this.atr.push3(h, l, c);
    outs[0][i] = outs[1][i] = NaN;
    if (a !== a || c !== c) {
      if (c === c && h === h && l === l) this.pc = c;
      return;
    }
    const mid = (h + l) / 2;
    const up = mid + this.mult * a;
    const lo = mid - this.mult * a;
    if (this.dir === 0) {
      this.fu = up;
      this.fl = lo;
      this.dir = c > up ? 1 : -1;
    } else {
      const wasUpper = this.dir === -1;
      const fu = up < this.fu || this.pc > this.fu ? up : this.fu;
      const fl = lo > this.fl || this.pc < this.fl ? lo : this.fl;
      if (wasUpper) this.dir = c > fu ? 1 : -1;
      else this.dir = c < fl ? -1 : 1;
      this.fu = fu;
      this.fl = fl;
    }
    this.pc = c;
    outs[0][i] = this.dir === 1 ? this.fl : this.fu;
    outs[1][i] = this.dir;
  }
}

export const supertrend: BatonIndicator = defineIndicator({
  id: 'supertrend',
  aliases: [],
  group: 'trend',
  description:
    'SuperTrend over TA-Lib ATR: the trailing band (hl2 ± multiplier·ATR) and the direction (1 up, −1 down). Starts in a downtrend unless the first close is above the upper band.',
  inputs: HLC,
  params: [period(10, 'ATR period'), floatParam('multiplier', 3, 'Band width in ATRs', 0, 1e6)],
  outputs: ['supertrend', 'direction'],
  lookback: (p) => p.period,
  machine: (p) => new SupertrendMachine(p.period, p.multiplier),
});

class ElderRayMachine implements Machine {
  ema: EmaCell;
  constructor(p: number) {
    this.ema = new EmaCell(p);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const h = ins[0][i];
    const l = ins[1][i];
    const e = this.ema.push(ins[2][i]);
    outs[0][i] = h - e;
    outs[1][i] = l - e;
  }
}

export const elder_ray: BatonIndicator = defineIndicator({
  id: 'elder_ray',
  aliases: ['elder'],
  group: 'trend',
  description:
    'Elder ray: bull power = high − EMA(close), bear power = low − EMA(close) (TA-Lib-seeded EMA).',
  inputs: HLC,
  params: [period(13)],
  outputs: ['bull', 'bear'],
  lookback: (p) => p.period - 1,
  machine: (p) => new ElderRayMachine(p.period),
});

class FisherMachine implements Machine {
  hi: ExtremeWindow;
  lo: ExtremeWindow;
  value = 0;
  fish = NaN;
  constructor(p: number) {
    this.hi = new ExtremeWindow(p);
    this.lo = new ExtremeWindow(p, true);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const mid = (ins[0][i] + ins[1][i]) / 2;
    const hh = this.hi.push(mid);
    const ll = this.lo.push(mid);
    outs[0][i] = outs[1][i] = NaN;
    if (hh !== hh || ll !== ll || mid !== mid) return;
    const range = hh - ll;
    const norm = range === 0 ? 0 : (mid - ll) / range - 0.5;
    let v = 0.66 * norm + 0.67 * this.value;
    if (v > 0.999) v = 0.999;
    else if (v < -0.999) v = -0.999;
    this.value = v;
    const prev = this.fish;
    this.fish = 0.5 * Math.log((1 + v) / (1 - v)) + 0.5 * (prev === prev ? prev : 0);
    outs[0][i] = this.fish;
    outs[1][i] = prev;
  }
}

export const fisher: BatonIndicator = defineIndicator({
  id: 'fisher',
  aliases: ['fisher_transform'],
  group: 'trend',
  description:
    "Ehlers' Fisher transform of hl2 over the window (TradingView formula), with trigger = previous fisher value.",
  inputs: ['high', 'low'],
  params: [period(9)],
  outputs: ['fisher', 'trigger'],
  lookback: (p) => p.period,
  machine: (p) => new FisherMachine(p.period),
});

export const TREND: readonly BatonIndicator[] = [
  sma,
  ema,
  wma,
  hma,
  macd,
  adx,
  ichimoku,
  psar,
  supertrend,
  elder_ray,
  fisher,
];
