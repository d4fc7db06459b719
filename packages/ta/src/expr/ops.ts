/**
 * Semantics of operators on plain values (numbers, strings, booleans, null, lists,
 * objects). Shared by constant folding and the evaluator so both agree exactly.
 * Series (Float64Array) arithmetic lives in series-ops.ts.
 */
import type { BinaryOp } from './ast.js';

/** Structural equality of plain values; numbers compare with IEEE `===` (so NaN != NaN). */
export function plainEquals(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!plainEquals(a[i], b[i])) return false;
    return true;
  }
  if (isPlainObject(a) && isPlainObject(b)) {
    const ka = Object.keys(a);
    if (ka.length !== Object.keys(b).length) return false;
    return ka.every((k) => Object.hasOwn(b, k) && plainEquals(a[k], b[k]));
  }
  return false;
}

/** True for `{}`-style records (prototype Object.prototype or null); false for class instances. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto: unknown = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

/** Arithmetic on two numbers (IEEE: division by zero gives ±Infinity or NaN). */
export function arith(op: BinaryOp, a: number, b: number): number {
  switch (op) {
    case '+':
      return a + b;
    case '-':
      return a - b;
    case '*':
      return a * b;
    case '/':
      return a / b;
    case '%':
      return a % b;
    default:
      throw new Error(`not an arithmetic operator: ${op}`);
  }
}

/** Ordering of two numbers or two strings. Any NaN operand compares false. */
export function order(op: BinaryOp, a: number | string, b: number | string): boolean {
  switch (op) {
    case '<':
      return a < b;
    case '<=':
      return a <= b;
    case '>':
      return a > b;
    case '>=':
      return a >= b;
    default:
      throw new Error(`not an ordering operator: ${op}`);
  }
}

/** `needle in haystack`: list membership by {@link plainEquals}, or substring of a string. */
export function contains(haystack: readonly unknown[] | string, needle: unknown): boolean {
  if (typeof haystack === 'string') return typeof needle === 'string' && haystack.includes(needle);
  for (const item of haystack) if (plainEquals(item, needle)) return true;
  return false;
}

/**
 * `list[i]` and `object[key]`: a list item by whole-number position (negative counts from the end), or
 * an own field of a plain object. Out of range, or a missing field, gives null; `undefined` means the
 * pair does not index (a string key on a list, a fraction), which the caller reports.
 */
export function indexValue(object: unknown, index: unknown): unknown {
  if (Array.isArray(object)) {
    if (typeof index !== 'number' || !Number.isInteger(index)) return undefined;
    const i = index < 0 ? object.length + index : index;
    return i >= 0 && i < object.length ? (object[i] as unknown) : null;
  }
  if (isPlainObject(object)) {
    if (typeof index !== 'string') return undefined;
    return Object.hasOwn(object, index) ? object[index] : null;
  }
  return undefined;
}

/** The set of arithmetic operators. */
export const ARITH_OPS: ReadonlySet<BinaryOp> = new Set(['+', '-', '*', '/', '%']);
/** The set of ordering operators. */
export const ORDER_OPS: ReadonlySet<BinaryOp> = new Set(['<', '<=', '>', '>=']);
