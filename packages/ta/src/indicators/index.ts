/** Every built-in indicator, in registry order. */
import type { BatonIndicator } from '../define.js';
import { PRIMITIVES } from './primitives.js';
import { TREND } from './trend.js';

export const BUILTINS: readonly BatonIndicator[] = [...PRIMITIVES, ...TREND];
