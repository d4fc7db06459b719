import { BatonError } from './errors.js';

/** A duration: milliseconds as a number, or a string like `500ms`, `30s`, `5m`, `2h`, `7d`. */
export type Duration = number | string;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The longest duration accepted anywhere: past it, a moment computed from now leaves PostgreSQL's range. */
export const MAX_DURATION_MS = 36_500 * 86_400_000;

/** Parses a Duration to milliseconds; `what` names the option in the error. Negative values are refused. */
export function toMs(value: Duration, what: string): number {
  let ms: number;
  if (typeof value === 'number') {
    ms = value;
  } else if (typeof value === 'string') {
    const m = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(value);
    if (!m) {
      throw new BatonError(
        'E_INVALID_OPTION',
        `${what}: '${value}' is not a duration; write e.g. 500ms, 30s, 5m, 2h or 7d, or a number of milliseconds.`,
      );
    }
    ms = Number(m[1]) * UNITS[m[2]];
  } else {
    throw new BatonError(
      'E_INVALID_OPTION',
      `${what} must be a number of milliseconds or a string like '30s', got ${typeof value}.`,
    );
  }
  if (!Number.isFinite(ms) || ms < 0) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `${what} must be a finite duration of zero or more, got ${String(value)}.`,
    );
  }
  if (ms > MAX_DURATION_MS) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `${what} is ${String(value)}, more than the longest duration Baton takes (100 years, 36500d).`,
    );
  }
  return ms;
}
