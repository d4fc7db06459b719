// How the task table writes a value in each of ui_config.yaml's column formats.
import { describe, expect, it } from 'vitest';
import { formatCell } from '../../src/ui-config';

describe('formatCell', () => {
  it('writes durations (milliseconds) in the largest unit that reads well', () => {
    expect(formatCell(250, 'duration')).toBe('250 ms');
    expect(formatCell(1500, 'duration')).toBe('1.5 s');
    expect(formatCell(125_000, 'duration')).toBe('2 min 5 s');
    expect(formatCell(2 * 3_600_000 + 60_000, 'duration')).toBe('2 h 1 min');
    // Not a number: shown as it is rather than as NaN.
    expect(formatCell('soon', 'duration')).toBe('soon');
  });

  it('writes percents, booleans, JSON and missing values', () => {
    expect(formatCell(42.6, 'percent')).toBe('43%');
    expect(formatCell(true, 'boolean')).toBe('yes');
    expect(formatCell({ a: 1 }, 'json')).toBe('{"a":1}');
    expect(formatCell(null, 'duration')).toBe('—');
    expect(formatCell(undefined)).toBe('—');
  });
});
