/**
 * Element-wise operators over series. Each operator is one typed-array loop with the
 * operator chosen outside the loop, so evaluating an expression costs a few passes
 * over memory on top of the kernels.
 *
 * Truth values in series are numbers: 1 (true), 0 (false), NaN (unknown: warm-up or
 * missing data). Any NaN operand gives NaN: comparisons, `and`, `or` and `not` do not
 * turn an unknown into false.
 */
import type { BinaryOp } from './ast.js';

/** A series operand, or a scalar broadcast over every element. */
export type SeriesOperand = Float64Array | number;

/** Arithmetic `+ - * / %`, with broadcasting. */
export function seriesArith(op: BinaryOp, a: SeriesOperand, b: SeriesOperand, n: number): Float64Array {
  const out = new Float64Array(n);
  if (typeof a !== 'number' && typeof b !== 'number') {
    switch (op) {
      case '+':
        for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
        break;
      case '-':
        for (let i = 0; i < n; i++) out[i] = a[i] - b[i];
        break;
      case '*':
        for (let i = 0; i < n; i++) out[i] = a[i] * b[i];
        break;
      case '/':
        for (let i = 0; i < n; i++) out[i] = a[i] / b[i];
        break;
      default:
        for (let i = 0; i < n; i++) out[i] = a[i] % b[i];
    }
    return out;
  }
  if (typeof a !== 'number') {
    const s = b as number;
    switch (op) {
      case '+':
        for (let i = 0; i < n; i++) out[i] = a[i] + s;
        break;
      case '-':
        for (let i = 0; i < n; i++) out[i] = a[i] - s;
        break;
      case '*':
        for (let i = 0; i < n; i++) out[i] = a[i] * s;
        break;
      case '/':
        for (let i = 0; i < n; i++) out[i] = a[i] / s;
        break;
      default:
        for (let i = 0; i < n; i++) out[i] = a[i] % s;
    }
    return out;
  }
  const s = a;
  const v = b as Float64Array;
  switch (op) {
    case '+':
      for (let i = 0; i < n; i++) out[i] = s + v[i];
      break;
    case '-':
      for (let i = 0; i < n; i++) out[i] = s - v[i];
      break;
    case '*':
      for (let i = 0; i < n; i++) out[i] = s * v[i];
      break;
    case '/':
      for (let i = 0; i < n; i++) out[i] = s / v[i];
      break;
    default:
      for (let i = 0; i < n; i++) out[i] = s % v[i];
  }
  return out;
}

/** A series view of an operand: scalars become a constant series (only for rarely hit paths). */
function asArray(x: SeriesOperand, n: number): Float64Array {
  return typeof x === 'number' ? new Float64Array(n).fill(x) : x;
}

/**
 * Comparisons `== != < <= > >=` giving 1/0, or NaN where either side is NaN.
 * A scalar side is compared without materialising it.
 */
export function seriesCompare(op: BinaryOp, a: SeriesOperand, b: SeriesOperand, n: number): Float64Array {
  const out = new Float64Array(n);
  if (typeof a === 'number' && typeof b !== 'number') {
    // Flip to keep one loop per operator: s < v  <=>  v > s.
    const flipped: Record<string, BinaryOp> = {
      '<': '>',
      '<=': '>=',
      '>': '<',
      '>=': '<=',
      '==': '==',
      '!=': '!=',
    };
    return seriesCompare(flipped[op], b, a, n);
  }
  const x = asArray(a, n);
  if (typeof b === 'number') {
    const s = b;
    if (s !== s) return out.fill(NaN);
    switch (op) {
      case '<':
        for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? NaN : x[i] < s ? 1 : 0;
        break;
      case '<=':
        for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? NaN : x[i] <= s ? 1 : 0;
        break;
      case '>':
        for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? NaN : x[i] > s ? 1 : 0;
        break;
      case '>=':
        for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? NaN : x[i] >= s ? 1 : 0;
        break;
      case '==':
        for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? NaN : x[i] === s ? 1 : 0;
        break;
      default:
        for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? NaN : x[i] !== s ? 1 : 0;
    }
    return out;
  }
  const y = b;
  switch (op) {
    case '<':
      for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] || y[i] !== y[i] ? NaN : x[i] < y[i] ? 1 : 0;
      break;
    case '<=':
      for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] || y[i] !== y[i] ? NaN : x[i] <= y[i] ? 1 : 0;
      break;
    case '>':
      for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] || y[i] !== y[i] ? NaN : x[i] > y[i] ? 1 : 0;
      break;
    case '>=':
      for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] || y[i] !== y[i] ? NaN : x[i] >= y[i] ? 1 : 0;
      break;
    case '==':
      for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] || y[i] !== y[i] ? NaN : x[i] === y[i] ? 1 : 0;
      break;
    default:
      for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] || y[i] !== y[i] ? NaN : x[i] !== y[i] ? 1 : 0;
  }
  return out;
}

/** `and` / `or`: non-zero is true; NaN on either side gives NaN. */
export function seriesLogic(op: 'and' | 'or', a: SeriesOperand, b: SeriesOperand, n: number): Float64Array {
  const out = new Float64Array(n);
  if (typeof a === 'number') [a, b] = [b, a]; // both operators are symmetric
  const x = a as Float64Array;
  if (typeof b === 'number') {
    if (b !== b) return out.fill(NaN);
    const t = b !== 0;
    if (op === 'and') for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? NaN : t && x[i] !== 0 ? 1 : 0;
    else for (let i = 0; i < n; i++) out[i] = x[i] !== x[i] ? NaN : t || x[i] !== 0 ? 1 : 0;
    return out;
  }
  const y = b;
  if (op === 'and') {
    for (let i = 0; i < n; i++)
      out[i] = x[i] !== x[i] || y[i] !== y[i] ? NaN : x[i] !== 0 && y[i] !== 0 ? 1 : 0;
  } else {
    for (let i = 0; i < n; i++)
      out[i] = x[i] !== x[i] || y[i] !== y[i] ? NaN : x[i] !== 0 || y[i] !== 0 ? 1 : 0;
  }
  return out;
}

/** `not`: 1 for 0, 0 for non-zero, NaN for NaN. */
export function seriesNot(a: Float64Array): Float64Array {
  const n = a.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = a[i] !== a[i] ? NaN : a[i] === 0 ? 1 : 0;
  return out;
}

/** Unary minus. */
export function seriesNeg(a: Float64Array): Float64Array {
  const n = a.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) out[i] = -a[i];
  return out;
}

/** `series in [numbers]`: 1 where the element equals one of `values`, NaN where it is NaN. */
export function seriesIn(a: Float64Array, values: readonly number[], negate: boolean): Float64Array {
  const n = a.length;
  const out = new Float64Array(n);
  const set = new Set(values);
  const yes = negate ? 0 : 1;
  const no = negate ? 1 : 0;
  for (let i = 0; i < n; i++) out[i] = a[i] !== a[i] ? NaN : set.has(a[i]) ? yes : no;
  return out;
}
