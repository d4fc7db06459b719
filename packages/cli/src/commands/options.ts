import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { BatonError, EXECUTION_STATUSES, type ExecutionStatus } from '@baton/core';

/** Option parsing shared by the commands: each bad value gets one clear line naming the flag. */

export const STATUSES: readonly ExecutionStatus[] = EXECUTION_STATUSES;

/** Parses a JSON option such as --input; `example` is a valid value to show when it is not JSON. */
export function parseJsonOption(text: string | undefined, flag: string, example: string): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new BatonError(
      'E_NOT_JSON',
      `${flag} is not valid JSON: ${(err as Error).message}. Example: ${flag} '${example}'`,
    );
  }
}

export function parseIntOption(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^-?\d+$/.test(value))
    throw new BatonError('E_INVALID_OPTION', `${flag} must be an integer, got '${value}'`);
  return Number(value);
}

/** Checks --status against the execution statuses. */
export function parseStatusOption(value: string | undefined): ExecutionStatus | undefined {
  if (value !== undefined && !STATUSES.includes(value as ExecutionStatus)) {
    throw new BatonError('E_INVALID_OPTION', `--status '${value}' is not one of ${STATUSES.join(', ')}`);
  }
  return value as ExecutionStatus | undefined;
}

/** Parses --run-at (ISO 8601) and --delay (a duration) of `enqueue` and `workflows start`. */
export function parseWhen(o: { runAt?: string; delay?: string }): { runAt?: Date; delay?: string | number } {
  let runAt: Date | undefined;
  if (o.runAt !== undefined) {
    runAt = new Date(o.runAt);
    if (Number.isNaN(runAt.getTime()))
      throw new BatonError(
        'E_INVALID_OPTION',
        `--run-at '${o.runAt}' is not an ISO 8601 time, e.g. 2026-12-01T09:00:00Z`,
      );
  }
  if (o.delay !== undefined && o.delay.trim().startsWith('-')) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `--delay must not be negative, got '${o.delay}'; use --run-at for a time in the past`,
    );
  }
  const delay = o.delay === undefined ? undefined : /^\d+(\.\d+)?$/.test(o.delay) ? Number(o.delay) : o.delay;
  return { runAt, delay };
}

/** Commander's accumulator for an option given more than once. */
export function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** `--root` (or another directory option), checked: an existing directory; returned absolute. */
export function directoryOption(dir: string, flag = '--root'): string {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new BatonError('E_INVALID_OPTION', `${flag} ${dir}: no such directory (${abs})`);
  return abs;
}
