import { describe, expect, it } from 'vitest';
import { parseCsv } from '../src/csv.js';
import { TaError } from '../src/errors.js';

function csvError(text: string): TaError {
  try {
    parseCsv(text, 'bars.csv');
  } catch (e) {
    expect(e).toBeInstanceOf(TaError);
    return e as TaError;
  }
  throw new Error('expected a CSV error');
}

describe('parseCsv', () => {
  it('reads a standard OHLCV file', () => {
    const t = parseCsv(
      'timestamp,open,high,low,close,volume\n2024-01-01,1,2,0.5,1.5,100\n2024-01-02,1.5,2.5,1,2,200\n',
    );
    expect(t.length).toBe(2);
    expect(t.timestamps).toEqual(['2024-01-01', '2024-01-02']);
    expect([...t.columns.close]).toEqual([1.5, 2]);
    expect([...t.columns.volume]).toEqual([100, 200]);
    expect(Object.keys(t.columns).sort()).toEqual(['close', 'high', 'low', 'open', 'volume']);
  });

  it('accepts case-insensitive headers, aliases, CRLF, a BOM and quoted fields', () => {
    const t = parseCsv('\uFEFFDate,O,H,L,C,V\r\n"2024-01-01 00:00",1,2,0.5,"1e1",7\r\n');
    expect(t.timestamps).toEqual(['2024-01-01 00:00']);
    expect(t.columns.close[0]).toBe(10);
    expect(t.columns.open[0]).toBe(1);
    expect(t.columns.volume[0]).toBe(7);
  });

  it('needs only close; keeps extra numeric columns; empty cells are NaN', () => {
    const t = parseCsv('Close,Signal\n1,\n2,3\n');
    expect(t.timestamps).toBeUndefined();
    expect([...t.columns.close]).toEqual([1, 2]);
    expect(Number.isNaN(t.columns.signal[0])).toBe(true);
    expect(t.columns.signal[1]).toBe(3);
  });

  it('keeps text columns (a symbol, a timeframe) apart; OHLCV columns and numeric ones stay strict', () => {
    const t = parseCsv(
      'timestamp,symbol,tf,c,spread,note\nt1,USDJPY,5m,1,,\nt2,USDJPY,5m,2,0.5,\n',
      'bars.csv',
    );
    expect(t.text).toEqual({ symbol: ['USDJPY', 'USDJPY'], tf: ['5m', '5m'] });
    expect(Object.keys(t.columns)).toEqual(['close', 'spread', 'note']);
    expect(Number.isNaN(t.columns.spread[0])).toBe(true);
    expect(csvError('close,volume\n1,lots\n').message).toBe(
      "malformed CSV bars.csv: row 1 (line 2), column 'volume': 'lots' is not a number",
    );
    expect(csvError('close,spread\n1,0.5\n2,wide\n').message).toContain(
      "column 'spread': 'wide' is not a number",
    );
  });

  it('names the row and column of a non-numeric cell', () => {
    const e = csvError('timestamp,close\n2024-01-01,1\n2024-01-02,abc\n');
    expect(e.code).toBe('E_INPUT_INVALID');
    expect(e.message).toBe("malformed CSV bars.csv: row 2 (line 3), column 'close': 'abc' is not a number");
    expect(e.details).toMatchObject({ row: 2, line: 3, column: 'close', value: 'abc' });
  });

  it('rejects things Number() would silently accept', () => {
    for (const bad of ['0x10', '1,5', '12px', 'Infinity']) {
      expect(csvError(`close\n"${bad}"\n`).message).toContain(`'${bad}' is not a number`);
    }
  });

  it('names the row with the wrong field count', () => {
    expect(csvError('timestamp,open,close\nt1,1,2\nt2,1\n').message).toBe(
      'malformed CSV bars.csv: row 2 (line 3) has 2 fields, expected 3',
    );
  });

  it('reports a missing close column', () => {
    expect(csvError('timestamp,open,high\nt,1,2\n').message).toBe(
      'malformed CSV bars.csv: missing close column (header: timestamp,open,high); want close or c',
    );
  });

  it('reports an empty file and a header without rows', () => {
    expect(csvError('').message).toMatch(/^malformed CSV bars.csv: the file is empty/);
    expect(csvError('\n\n').message).toMatch(/the file is empty/);
    expect(csvError('close\n').message).toBe(
      'malformed CSV bars.csv: the file has a header but no data rows',
    );
  });

  it('reports duplicate columns after aliasing, and unterminated quotes', () => {
    expect(csvError('c,close\n1,2\n').message).toBe(
      "malformed CSV bars.csv: columns 1 ('c') and 2 ('close') both mean 'close'",
    );
    expect(csvError('close\n"1\n').message).toBe('malformed CSV bars.csv: line 2: unterminated quoted field');
  });
});
