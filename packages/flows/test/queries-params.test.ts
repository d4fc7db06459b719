// Parameter values: text converted to the declared type, JS values checked, required/default applied.
import { describe, it, expect } from 'vitest';
import { BatonError } from '@baton/core';
import { absentValue, bindValues, convertValue, parseTimestamp } from '../src/queries/params.js';
import type { QueryParam } from '../src/config/kinds/queries.js';

const where = "query 'q': param 'p'";
const convert = (value: unknown, type: QueryParam['type']) => convertValue(value, type, where);

function refusal(fn: () => unknown): BatonError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(BatonError);
    expect((err as BatonError).code).toBe('E_INPUT_INVALID');
    return err as BatonError;
  }
  throw new Error('expected a refusal');
}

describe('convertValue from text', () => {
  it('integer: digits with a sign, within safe integers', () => {
    expect(convert('12', 'integer')).toBe(12);
    expect(convert(' -7 ', 'integer')).toBe(-7);
    for (const bad of ['12abc', '1.5', '', '1e3', '0x10', 'ten']) {
      expect(refusal(() => convert(bad, 'integer')).message).toBe(
        `query 'q': param 'p' must be an integer, got '${bad}'`,
      );
    }
    expect(refusal(() => convert('9007199254740993', 'integer')).message).toMatch(
      /must be an integer between -9007199254740991 and 9007199254740991, got '9007199254740993'/,
    );
  });

  it('number: decimal text only', () => {
    expect(convert('1.5', 'number')).toBe(1.5);
    expect(convert('-2e3', 'number')).toBe(-2000);
    expect(convert('.5', 'number')).toBe(0.5);
    for (const bad of ['NaN', 'Infinity', '1,5', '', '0x10']) refusal(() => convert(bad, 'number'));
  });

  it('boolean: true/false/1/0', () => {
    expect(convert('true', 'boolean')).toBe(true);
    expect(convert('FALSE', 'boolean')).toBe(false);
    expect(convert('1', 'boolean')).toBe(true);
    expect(convert('0', 'boolean')).toBe(false);
    expect(refusal(() => convert('yes', 'boolean')).message).toMatch(
      /must be a boolean \(true, false, 1 or 0\), got 'yes'/,
    );
  });

  it('timestamp: ISO 8601, bound as UTC ISO text; no zone means UTC', () => {
    expect(convert('2024-05-01T12:00:00Z', 'timestamp')).toBe('2024-05-01T12:00:00.000Z');
    expect(convert('2024-05-01T14:00:00+02:00', 'timestamp')).toBe('2024-05-01T12:00:00.000Z');
    expect(convert('2024-05-01T14:00:00+02', 'timestamp')).toBe('2024-05-01T12:00:00.000Z');
    expect(convert('2024-05-01T14:30:00+0230', 'timestamp')).toBe('2024-05-01T12:00:00.000Z');
    expect(convert('2024-05-01T09:00:00-03', 'timestamp')).toBe('2024-05-01T12:00:00.000Z');
    expect(convert('2024-05-01 12:00', 'timestamp')).toBe('2024-05-01T12:00:00.000Z');
    expect(convert('2024-05-01', 'timestamp')).toBe('2024-05-01T00:00:00.000Z');
    expect(convert('2024-05-01T12:00:00.123456Z', 'timestamp')).toBe('2024-05-01T12:00:00.123Z');
    for (const bad of ['2024-02-30', '2024-13-01', '2024-05-01T25:00', 'yesterday', '1714564800']) {
      expect(parseTimestamp(bad)).toBeUndefined();
      refusal(() => convert(bad, 'timestamp'));
    }
  });

  it('string: the text itself, untouched', () => {
    expect(convert("  x' OR '1'='1 ", 'string')).toBe("  x' OR '1'='1 ");
  });

  it('lists: comma-separated, each item converted, empty text is an empty list', () => {
    expect(convert('1, 2,3', 'integer[]')).toEqual([1, 2, 3]);
    expect(convert('a,b', 'string[]')).toEqual(['a', 'b']);
    expect(convert('', 'string[]')).toEqual([]);
    expect(convert('true,0', 'boolean[]')).toEqual([true, false]);
    expect(refusal(() => convert('1,x,3', 'integer[]')).message).toBe(
      "query 'q': param 'p' must be a list of integers, got 'x' at position 2",
    );
  });
});

describe('convertValue from JS values', () => {
  it('accepts a value of the type', () => {
    expect(convert(3, 'integer')).toBe(3);
    expect(convert(2.5, 'number')).toBe(2.5);
    expect(convert(false, 'boolean')).toBe(false);
    expect(convert(new Date('2024-05-01T12:00:00Z'), 'timestamp')).toBe('2024-05-01T12:00:00.000Z');
    expect(convert([1, '2'], 'integer[]')).toEqual([1, 2]);
  });

  it('refuses a value of another type instead of coercing it', () => {
    expect(refusal(() => convert(12, 'string')).message).toBe(
      "query 'q': param 'p' must be a string, got the number 12",
    );
    expect(refusal(() => convert(1.5, 'integer')).message).toMatch(/must be an integer, got the number 1.5/);
    expect(refusal(() => convert(2 ** 60, 'integer')).message).toMatch(/must be an integer/);
    refusal(() => convert(1, 'boolean'));
    refusal(() => convert(Number.NaN, 'number'));
    refusal(() => convert(new Date('nope'), 'timestamp'));
    refusal(() => convert({ a: 1 }, 'string'));
    expect(refusal(() => convert(5, 'integer[]')).message).toMatch(
      /must be a list of integers \(comma-separated text or an array\)/,
    );
    expect(refusal(() => convert([1, 2.5], 'integer[]')).message).toMatch(/got the number 2.5 at position 2/);
  });
});

describe('bindValues', () => {
  const params: QueryParam[] = [
    { name: 'status', type: 'string', required: true, description: 'Task status' },
    { name: 'limit', type: 'integer', default: 100 },
    { name: 'ids', type: 'integer[]' },
    { name: 'since', type: 'timestamp' },
  ];
  const defaults = params.map((p) => absentValue(p));

  it('applies defaults; an absent optional scalar is null, an absent list is empty', () => {
    expect(bindValues('q', params, defaults, { status: 'pending' })).toEqual(['pending', 100, [], null]);
    expect(bindValues('q', params, defaults, { status: 'x', limit: '5', ids: '1,2', since: null })).toEqual([
      'x',
      5,
      [1, 2],
      null,
    ]);
  });

  it('refuses a missing required param, saying which and what it is', () => {
    for (const given of [{}, { status: null }, { status: undefined }]) {
      expect(refusal(() => bindValues('q', params, defaults, given)).message).toBe(
        "query 'q': param 'status' (string) is required but was not given (Task status)",
      );
    }
  });

  it('refuses an undeclared param with a did-you-mean and the declared names', () => {
    const err = refusal(() => bindValues('q', params, defaults, { status: 'x', limt: 5 }));
    expect(err.message).toBe(
      "query 'q' has no param 'limt' (did you mean 'limit'?); its params are: status, limit, ids, since",
    );
    expect(refusal(() => bindValues('r', [], [], { x: 1 })).message).toBe(
      "query 'r' has no param 'x'; it takes no params",
    );
  });

  it('converts a default like a given value, and refuses a default that does not fit', () => {
    expect(absentValue({ name: 'n', type: 'integer', default: '7' })).toBe(7);
    expect(absentValue({ name: 'xs', type: 'string[]', default: 'a,b' })).toEqual(['a', 'b']);
    expect(refusal(() => absentValue({ name: 'n', type: 'integer', default: 'ten' })).message).toBe(
      "the default of param 'n' must be an integer, got 'ten'",
    );
  });
});
