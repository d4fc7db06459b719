/** Every built-in indicator, in registry order. */
import type { BatonIndicator } from '../define.js';
import { EVENTS } from './events.js';
import { MOMENTUM } from './momentum.js';
import { PATTERN } from './pattern.js';
import { PRIMITIVES } from './primitives.js';
import { TREND } from './trend.js';
import { VOLATILITY } from './volatility.js';
import { VOLUME } from './volume.js';

export const BUILTINS: readonly BatonIndicator[] = [
  ...PRIMITIVES,
  ...TREND,
  ...MOMENTUM,
  ...VOLATILITY,
  ...VOLUME,
  ...EVENTS,
  ...PATTERN,
];
