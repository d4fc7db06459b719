import { BatonError } from './errors.js';
import { textProblem } from './text.js';

/** The largest value of a PostgreSQL integer column. */
export const INT_MAX = 2_147_483_647;

/**
 * Checks an integer option: returns `value`, or `fallback` when it is undefined; throws
 * E_INVALID_OPTION naming `what` when it is not an integer from `min` to `max`.
 */
export function checkInt(value: unknown, what: string, min: number, max: number, fallback: number): number;
export function checkInt(value: unknown, what: string, min: number, max: number): number | undefined;
export function checkInt(
  value: unknown,
  what: string,
  min: number,
  max: number,
  fallback?: number,
): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `${what} must be an integer from ${min} to ${max}, got ${typeof value === 'number' ? value : typeof value}`,
    );
  }
  return value;
}

/** `value` if it is a boolean, `fallback` if it is undefined; otherwise E_INVALID_OPTION naming it. */
export function checkBoolean(value: unknown, what: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean')
    throw new BatonError(
      'E_INVALID_OPTION',
      `${what} must be true or false, got ${typeof value === 'string' ? `'${value.slice(0, 40)}'` : describe(value)}`,
    );
  return value;
}

/**
 * Checks a free-form identifier (an execution id, an idempotency key): a string of 1 to `max`
 * characters that PostgreSQL can store unchanged. Returns it; throws E_INVALID_OPTION otherwise.
 */
export function checkText(value: unknown, what: string, max: number): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > max) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `${what} must be a string of 1 to ${max} characters, got ${describe(value)}`,
    );
  }
  return checkStorable(value, what);
}

/**
 * Checks text that may be empty (a reason, a note, a result) for what PostgreSQL cannot store
 * unchanged (see textProblem). Returns it; throws E_INVALID_OPTION naming `what` otherwise.
 */
export function checkStorable(value: string, what: string): string {
  const problem = textProblem(value);
  if (problem) throw new BatonError('E_INVALID_OPTION', `${what} ${problem}; use plain Unicode text`);
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `a string of ${value.length} characters`;
  if (value === null) return 'null';
  return typeof value;
}

/** Checks that `value` is one of `allowed`; returns it; throws E_INVALID_OPTION naming `what` otherwise. */
export function checkOneOf<T extends string>(value: unknown, allowed: readonly T[], what: string): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `${what} must be one of ${allowed.join(', ')}, got ${typeof value === 'string' ? `'${value}'` : describe(value)}`,
    );
  }
  return value as T;
}

/** Checks a moment: a Date that is a real time. Returns it; throws E_INVALID_OPTION naming `what` otherwise. */
export function checkDate(value: unknown, what: string): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    throw new BatonError('E_INVALID_OPTION', `${what} must be a valid Date, got ${describe(value)}`);
  return value;
}
