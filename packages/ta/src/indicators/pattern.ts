/** Pattern detectors. */
import { Ring } from '../cells.js';
import { defineIndicator, intParam, type BatonIndicator } from '../define.js';
import type { Machine } from '../machine.js';

/**
 * Swing (pivot) points without look-ahead: a bar is a swing high when its high is
 * strictly above the `left` highs before it and the `right` highs after it. The flag
 * is raised on the bar that confirms it, `right` bars after the pivot.
 */
class SwingMachine implements Machine {
  hi: Ring;
  lo: Ring;
  constructor(
    readonly left: number,
    readonly right: number,
  ) {
    this.hi = new Ring(left + right + 1);
    this.lo = new Ring(left + right + 1);
  }
  step(ins: readonly Float64Array[], i: number, outs: Float64Array[]): void {
    this.hi.push(ins[0][i]);
    this.lo.push(ins[1][i]);
    if (!this.hi.full || this.hi.nan > 0 || this.lo.nan > 0) {
      outs[0][i] = outs[1][i] = NaN;
      return;
    }
    const w = this.left + this.right;
    const ph = this.hi.back(this.right);
    const pl = this.lo.back(this.right);
    let isHigh = 1;
    let isLow = 1;
    for (let k = 0; k <= w; k++) {
      if (k === this.right) continue;
      if (this.hi.back(k) >= ph) isHigh = 0;
      if (this.lo.back(k) <= pl) isLow = 0;
    }
    outs[0][i] = isHigh;
    outs[1][i] = isLow;
  }
}

export const swing_points: BatonIndicator = defineIndicator({
  id: 'swing_points',
  aliases: ['pivots'],
  group: 'pattern',
  description:
    'Swing highs and lows (1/0): the pivot bar’s high (low) is strictly above (below) the `left` bars before and the `right` bars after it; flagged on the confirming bar, `right` bars later, so there is no look-ahead.',
  inputs: ['high', 'low'],
  params: [
    intParam('left', 2, 'Bars before the pivot'),
    intParam('right', 2, 'Bars after the pivot (confirmation delay)', 0),
  ],
  outputs: ['swing_high', 'swing_low'],
  lookback: (p) => p.left + p.right,
  machine: (p) => new SwingMachine(p.left, p.right),
});

export const PATTERN: readonly BatonIndicator[] = [swing_points];
