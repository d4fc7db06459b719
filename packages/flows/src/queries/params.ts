// Parameter values: converted from text (CLI flags, HTTP query strings) or checked as JS values
// against the declared type, with `required` and `default` applied. Values are always bound, never
// interpolated, so a conversion only has to produce the right JS type.
import { BatonError, nearest } from '@baton/core';
import type { ParamType, QueryParam } from '../config/kinds/queries.js';

/** A converted scalar: a timestamp is its ISO 8601 text in UTC (`2024-05-01T12:00:00.000Z`). */
export type ScalarValue = string | number | boolean;
/** A converted parameter value; `null` is an optional scalar param that was not given. */
export type ParamValue = ScalarValue | null | readonly ScalarValue[];

type ScalarType = 'string' | 'integer' | 'number' | 'boolean' | 'timestamp';

const EXPECTED: Record<ScalarType, string> = {
  string: 'a string',
  integer: 'an integer',
  number: 'a number',
  boolean: 'a boolean (true, false, 1 or 0)',
  timestamp: 'an ISO 8601 timestamp such as 2024-05-01T12:00:00Z',
};
const PLURAL: Record<ScalarType, string> = {
  string: 'strings',
  integer: 'integers',
  number: 'numbers',
  boolean: 'booleans (true, false, 1 or 0)',
  timestamp: 'ISO 8601 timestamps',
};

/** The element type of a list type, or undefined for a scalar type. */
export function listElement(type: ParamType): ScalarType | undefined {
  return type.endsWith('[]') ? (type.slice(0, -2) as ScalarType) : undefined;
}

/** How a value looks in an error message: text quoted, other values by kind. */
function show(value: unknown): string {
  if (typeof value === 'string') return `'${value.length > 60 ? `${value.slice(0, 57)}...` : value}'`;
  if (value instanceof Date) return `the Date ${String(value)}`;
  if (Array.isArray(value)) return 'a list';
  if (value === null) return 'null';
  if (typeof value === 'object') return 'an object';
  return `the ${typeof value} ${String(value)}`;
}

const INTEGER_TEXT = /^[+-]?\d+$/;
const NUMBER_TEXT = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const ISO_8601 =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;

/**
 * Parses ISO 8601 text (a date, or a date and time, with an optional zone; no zone means UTC) into
 * its UTC ISO form, or undefined when it is not a real instant (`2024-02-30`, `25:00`).
 */
export function parseTimestamp(text: string): string | undefined {
  const m = ISO_8601.exec(text.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac = '', zone = 'Z'] = m;
  const [year, month, day, hour, minute, second] = [y, mo, d, h, mi, s].map(Number);
  const real = new Date(Date.UTC(year, month - 1, day));
  if (
    real.getUTCMonth() !== month - 1 ||
    real.getUTCDate() !== day ||
    hour > 23 ||
    minute > 59 ||
    second > 59
  ) {
    return undefined;
  }
  // The zone as ISO needs it: Z, or ±HH:MM (given as ±HH, ±HHMM or ±HH:MM).
  const digits = zone.slice(1).replace(':', '');
  const offset =
    zone.toUpperCase() === 'Z' ? 'Z' : `${zone[0]}${digits.slice(0, 2)}:${digits.slice(2) || '00'}`;
  const ms = frac.padEnd(3, '0').slice(0, 3);
  const time = Date.parse(`${y}-${mo}-${d}T${h}:${mi}:${s}.${ms}${offset}`);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

/** Converts one scalar (text is parsed; any other value must already have the type), or undefined when it does not fit. */
function toScalar(value: unknown, type: ScalarType): ScalarValue | undefined {
  if (typeof value === 'string' && type !== 'string') {
    const text = value.trim();
    switch (type) {
      case 'integer': {
        const n = Number(text);
        return INTEGER_TEXT.test(text) && Number.isSafeInteger(n) ? n : undefined;
      }
      case 'number':
        return NUMBER_TEXT.test(text) ? Number(text) : undefined;
      case 'boolean': {
        const t = text.toLowerCase();
        return t === 'true' || t === '1' ? true : t === 'false' || t === '0' ? false : undefined;
      }
      case 'timestamp':
        return parseTimestamp(text);
    }
  }
  switch (type) {
    case 'string':
      return typeof value === 'string' ? value : undefined;
    case 'integer':
      return Number.isSafeInteger(value) ? (value as number) : undefined;
    case 'number':
      return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
    case 'boolean':
      return typeof value === 'boolean' ? value : undefined;
    case 'timestamp':
      return value instanceof Date && !Number.isNaN(value.getTime()) ? value.toISOString() : undefined;
  }
}

/**
 * Converts a given value to `type`. Text is parsed (`'12'` for an integer, `'a,b'` for a list);
 * any other value must already have the type (a number for a `string` param is refused). `where`
 * starts the error message (`query 'x': param 'limit'`).
 * @throws BatonError `E_INPUT_INVALID` saying what was expected and what was given.
 */
export function convertValue(value: unknown, type: ParamType, where: string): ScalarValue | ScalarValue[] {
  const element = listElement(type);
  if (!element) {
    const out = toScalar(value, type as ScalarType);
    if (out === undefined) {
      const range =
        type === 'integer' && typeof value === 'string' && INTEGER_TEXT.test(value.trim())
          ? ` between ${Number.MIN_SAFE_INTEGER} and ${Number.MAX_SAFE_INTEGER}`
          : '';
      throw new BatonError(
        'E_INPUT_INVALID',
        `${where} must be ${EXPECTED[type as ScalarType]}${range}, got ${show(value)}`,
      );
    }
    return out;
  }
  // Text is a comma-separated list; commas cannot be escaped (pass an array for values that hold one).
  const items =
    typeof value === 'string' ? (value.trim() === '' ? [] : value.split(',').map((s) => s.trim())) : value;
  if (!Array.isArray(items)) {
    throw new BatonError(
      'E_INPUT_INVALID',
      `${where} must be a list of ${PLURAL[element]} (comma-separated text or an array), got ${show(value)}`,
    );
  }
  return items.map((item: unknown, i) => {
    const out = toScalar(item, element);
    if (out === undefined) {
      throw new BatonError(
        'E_INPUT_INVALID',
        `${where} must be a list of ${PLURAL[element]}, got ${show(item)} at position ${i + 1}`,
      );
    }
    return out;
  });
}

/**
 * The value of a declared param that was not given: its converted default, else null (a scalar) or
 * [] (a list).
 * @throws BatonError `E_INPUT_INVALID` when the default does not fit the type.
 */
export function absentValue(param: QueryParam): ParamValue {
  if (param.default !== undefined && param.default !== null) {
    return convertValue(param.default, param.type, `the default of param '${param.name}'`);
  }
  return listElement(param.type) ? [] : null;
}

/**
 * The values of a run, in the order `declared` lists the params. `defaults` holds each param's
 * {@link absentValue}, computed once at load. `undefined` and `null` count as not given.
 * @throws BatonError `E_INPUT_INVALID` for an undeclared param (with a did-you-mean), a missing
 *   required one, or a value that does not fit its type.
 */
export function bindValues(
  query: string,
  declared: readonly QueryParam[],
  defaults: readonly ParamValue[],
  given: Readonly<Record<string, unknown>>,
): ParamValue[] {
  for (const key of Object.keys(given)) {
    if (!declared.some((p) => p.name === key)) {
      const names = declared.map((p) => p.name);
      const hint = nearest(key, names);
      throw new BatonError(
        'E_INPUT_INVALID',
        `query '${query}' has no param '${key}'` +
          (hint ? ` (did you mean '${hint}'?)` : '') +
          (names.length ? `; its params are: ${names.join(', ')}` : '; it takes no params'),
        { details: { query, param: key, suggestion: hint } },
      );
    }
  }
  return declared.map((p, i) => {
    const value = Object.hasOwn(given, p.name) ? given[p.name] : undefined;
    if (value !== undefined && value !== null)
      return convertValue(value, p.type, `query '${query}': param '${p.name}'`);
    if (p.required) {
      throw new BatonError(
        'E_INPUT_INVALID',
        `query '${query}': param '${p.name}' (${p.type}) is required but was not given` +
          (p.description ? ` (${p.description})` : ''),
        { details: { query, param: p.name } },
      );
    }
    return defaults[i];
  });
}
