/**
 * Event indicators: 1 where the event happens, 0 where it does not, NaN in warm-up
 * and wherever an input the event looks at is NaN.
 */
import { Ring } from '../cells.js';
import { defineIndicator, floatParam, period, type BatonIndicator } from '../define.js';
import type { Machine } from '../machine.js';
import { CellMachine, SERIES, VALUE } from './common.js';

const PAIR = ['series', 'series2'] as const;
const CHANNEL = ['series', 'series2', 'series3'] as const;

/** Crossing of a over b (up, down or either), from this bar and the previous one. */
class CrossMachine implements Machine {
  pa = NaN;
  pb = NaN;
  constructor(readonly mode: 'any' | 'up' | 'down') {}
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const a = ins[0][i];
    const b = ins[1][i];
    const pa = this.pa;
    const pb = this.pb;
    this.pa = a;
    this.pb = b;
    if (a !== a || b !== b || pa !== pa || pb !== pb) {
      outs[0][i] = NaN;
      return;
    }
    const up = a > b && pa <= pb;
    const down = a < b && pa >= pb;
    outs[0][i] = (this.mode === 'up' ? up : this.mode === 'down' ? down : up || down) ? 1 : 0;
  }
}

function cross(id: string, mode: 'any' | 'up' | 'down', text: string): BatonIndicator {
  return defineIndicator({
    id,
    aliases: [],
    group: 'event',
    description: text,
    inputs: PAIR,
    params: [],
    outputs: VALUE,
    lookback: () => 1,
    machine: () => new CrossMachine(mode),
  });
}

export const crossEvent = cross(
  'cross',
  'any',
  '1 on the bar where a crosses b in either direction (crossup or crossdown).',
);
export const crossup = cross(
  'crossup',
  'up',
  '1 on the bar where a moves above b: a > b now and a ≤ b on the previous bar.',
);
export const crossdown = cross(
  'crossdown',
  'down',
  '1 on the bar where a moves below b: a < b now and a ≥ b on the previous bar.',
);

/** Compares x with its value `period` bars back, optionally by a minimum percentage. */
class MoveCell {
  ring: Ring;
  constructor(
    readonly period: number,
    readonly dir: 1 | -1,
    readonly pct: number,
  ) {
    this.ring = new Ring(period + 1);
  }
  push(x: number): number {
    const r = this.ring;
    r.push(x);
    if (!r.full) return NaN;
    const old = r.back(this.period);
    if (old !== old || x !== x) return NaN;
    if (this.pct !== this.pct) return (this.dir === 1 ? x > old : x < old) ? 1 : 0;
    if (old === 0) return 0;
    const change = ((x - old) / Math.abs(old)) * 100;
    return (this.dir === 1 ? change >= this.pct : change <= -this.pct) ? 1 : 0;
  }
}

const lagParam = period(1, 'Bars back to compare with');

export const rising: BatonIndicator = defineIndicator({
  id: 'rising',
  aliases: [],
  group: 'event',
  description: '1 when x is above its value `period` bars back.',
  inputs: SERIES,
  params: [lagParam],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new MoveCell(p.period, 1, NaN)),
});

export const falling: BatonIndicator = defineIndicator({
  id: 'falling',
  aliases: [],
  group: 'event',
  description: '1 when x is below its value `period` bars back.',
  inputs: SERIES,
  params: [lagParam],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new MoveCell(p.period, -1, NaN)),
});

export const rising_pct: BatonIndicator = defineIndicator({
  id: 'rising_pct',
  aliases: [],
  group: 'event',
  description:
    '1 when x rose by at least `percent` % against its value `period` bars back (0 when that value is 0).',
  inputs: SERIES,
  params: [lagParam, floatParam('percent', 1, 'Minimum rise in percent', 0, 1e9)],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new MoveCell(p.period, 1, p.percent)),
});

export const falling_pct: BatonIndicator = defineIndicator({
  id: 'falling_pct',
  aliases: [],
  group: 'event',
  description:
    '1 when x fell by at least `percent` % against its value `period` bars back (0 when that value is 0).',
  inputs: SERIES,
  params: [lagParam, floatParam('percent', 1, 'Minimum fall in percent', 0, 1e9)],
  outputs: VALUE,
  lookback: (p) => p.period,
  machine: (p) => new CellMachine(new MoveCell(p.period, -1, p.percent)),
});

/** Channel membership (`mode` in/out) or transitions (enter/exit) of x against [lower, upper]. */
class ChannelMachine implements Machine {
  prevIn = NaN;
  constructor(readonly mode: 'in' | 'out' | 'enter' | 'exit') {}
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    const x = ins[0][i];
    const up = ins[1][i];
    const lo = ins[2][i];
    const inside = x !== x || up !== up || lo !== lo ? NaN : x >= lo && x <= up ? 1 : 0;
    const prev = this.prevIn;
    this.prevIn = inside;
    if (this.mode === 'in') outs[0][i] = inside;
    else if (this.mode === 'out') outs[0][i] = inside === inside ? 1 - inside : NaN;
    else if (inside !== inside || prev !== prev) outs[0][i] = NaN;
    else if (this.mode === 'enter') outs[0][i] = inside === 1 && prev === 0 ? 1 : 0;
    else outs[0][i] = inside === 0 && prev === 1 ? 1 : 0;
  }
}

function channel(id: string, mode: 'in' | 'out' | 'enter' | 'exit', text: string): BatonIndicator {
  const lb = mode === 'enter' || mode === 'exit' ? 1 : 0;
  return defineIndicator({
    id,
    aliases: [],
    group: 'event',
    description: text,
    inputs: CHANNEL,
    params: [],
    outputs: VALUE,
    lookback: () => lb,
    machine: () => new ChannelMachine(mode),
  });
}

export const in_channel = channel('in_channel', 'in', '1 while lower ≤ x ≤ upper. Inputs: x, upper, lower.');
export const out_channel = channel(
  'out_channel',
  'out',
  '1 while x is above upper or below lower. Inputs: x, upper, lower.',
);
export const enter = channel(
  'enter',
  'enter',
  '1 on the bar where x comes inside [lower, upper] after being outside. Inputs: x, upper, lower.',
);
export const exit = channel(
  'exit',
  'exit',
  '1 on the bar where x leaves [lower, upper] after being inside. Inputs: x, upper, lower.',
);

export const EVENTS: readonly BatonIndicator[] = [
  crossEvent,
  crossup,
  crossdown,
  rising,
  falling,
  rising_pct,
  falling_pct,
  in_channel,
  out_channel,
  enter,
  exit,
];
