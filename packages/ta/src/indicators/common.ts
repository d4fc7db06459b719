/** Shared machine shapes for indicators built from one cell. */
import type { Machine } from '../machine.js';

/** Anything with `push(x) → y`. */
export interface Cell {
  push(x: number): number;
}

/** One input, one output, one cell. */
export class CellMachine implements Machine {
  constructor(readonly cell: Cell) {}
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    outs[0][i] = this.cell.push(ins[0][i]);
  }
}

/** Input spec for indicators over one caller-chosen series. */
export const SERIES = ['series'] as const;
/** High, low, close inputs. */
export const HLC = ['high', 'low', 'close'] as const;
/** High, low, close, volume inputs. */
export const HLCV = ['high', 'low', 'close', 'volume'] as const;
/** Single output name. */
export const VALUE = ['value'] as const;
