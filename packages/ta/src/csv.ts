/**
 * OHLCV CSV input for the CLI and tests. Strict on purpose: a malformed file is
 * rejected with the row and column that are wrong, never half-read. Text columns
 * (a symbol, a timeframe) are kept apart from the numeric series, not refused.
 */
import { TaError, type TaErrorCode } from './errors.js';

/** Error code for malformed CSV input (bad input data; no dedicated code exists yet). */
export const CSV_ERROR_CODE: TaErrorCode = 'E_INPUT_INVALID';

/** A parsed OHLCV table. */
export interface CsvTable {
  /** Timestamp cells as written, or undefined when the file has no timestamp column. */
  readonly timestamps: readonly string[] | undefined;
  /**
   * Numeric columns by canonical lower-case name: `open`, `high`, `low`, `close`,
   * `volume`, plus any other columns the file has. Empty cells are NaN (missing).
   */
  readonly columns: Record<string, Float64Array>;
  /**
   * Text columns (a symbol, a timeframe …) by lower-case name: any column other than open, high,
   * low, close and volume whose first non-empty cell is not a number. Kept as written, not series.
   */
  readonly text: Record<string, readonly string[]>;
  /** Number of data rows. */
  readonly length: number;
}

/** Header spellings accepted for each standard column (case-insensitive). */
const ALIASES: Readonly<Record<string, string>> = {
  o: 'open',
  h: 'high',
  l: 'low',
  c: 'close',
  v: 'volume',
  vol: 'volume',
  date: 'timestamp',
  time: 'timestamp',
  datetime: 'timestamp',
  ts: 'timestamp',
};

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
/** Cells that mean a missing value. */
const MISSING = new Set(['', 'NaN', 'nan']);
/** Columns that are always numeric: a non-number in them is an error, not a text column. */
const OHLCV_NAMES = new Set(['open', 'high', 'low', 'close', 'volume']);

function fail(name: string, what: string, details: Record<string, unknown>): never {
  throw new TaError(CSV_ERROR_CODE, `malformed CSV ${name}: ${what}`, {
    details: { file: name, ...details },
  });
}

/** Splits one CSV line into fields, honouring double-quoted fields with `""` escapes. */
function splitLine(line: string, name: string, lineNo: number): string[] {
  if (!line.includes('"')) return line.split(',');
  const out: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) fail(name, `line ${lineNo}: unterminated quoted field`, { line: lineNo });
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += line[i++];
      }
      if (i < line.length && line[i] !== ',') {
        fail(name, `line ${lineNo}: text after a closing quote`, { line: lineNo });
      }
    } else {
      const next = line.indexOf(',', i);
      const end = next < 0 ? line.length : next;
      field = line.slice(i, end);
      i = end;
    }
    out.push(field);
    if (i >= line.length) return out;
    i++; // skip the comma
  }
}

/**
 * Parses an OHLCV CSV. The header is case-insensitive; `o/h/l/c/v` and
 * `date/time/datetime/ts` are accepted as aliases; `close` is required.
 *
 * @param name File name used in error messages.
 * @throws TaError `E_INPUT_INVALID` naming the row (data row and file line) and column:
 *   an empty file, a header without rows, a missing close column, a duplicate column, a wrong field count,
 *   or a non-numeric cell in a numeric column (open, high, low, close, volume, or a column whose
 *   first value is a number).
 */
export function parseCsv(source: string, name = '<csv>'): CsvTable {
  const lines = source.replace(/^\uFEFF/, '').split(/\r?\n/);
  const headerIdx = lines.findIndex((l) => l.trim() !== '');
  if (headerIdx < 0)
    fail(name, 'the file is empty (want a header such as timestamp,open,high,low,close,volume)', {});
  const rawHeader = splitLine(lines[headerIdx], name, headerIdx + 1).map((h) => h.trim());
  const header = rawHeader.map((h) => {
    const lower = h.toLowerCase();
    return ALIASES[lower] ?? lower;
  });
  header.forEach((h, i) => {
    if (h === '') fail(name, `the header's column ${i + 1} has no name`, { column: i + 1 });
    const first = header.indexOf(h);
    if (first !== i) {
      fail(
        name,
        `columns ${first + 1} ('${rawHeader[first]}') and ${i + 1} ('${rawHeader[i]}') both mean '${h}'`,
        {
          column: h,
        },
      );
    }
  });
  if (!header.includes('close')) {
    fail(name, `missing close column (header: ${rawHeader.join(',')}); want close or c`, {
      header: rawHeader,
    });
  }
  const tsIdx = header.indexOf('timestamp');
  const rows: string[][] = [];
  const lineNos: number[] = [];
  for (let i = headerIdx + 1; i < lines.length; i++) {
    if (lines[i].trim() === '') continue; // blank lines (trailing newline, separators) carry no row
    const fields = splitLine(lines[i], name, i + 1);
    if (fields.length !== header.length) {
      fail(
        name,
        `row ${rows.length + 1} (line ${i + 1}) has ${fields.length} field${fields.length === 1 ? '' : 's'}, expected ${header.length}`,
        { row: rows.length + 1, line: i + 1 },
      );
    }
    rows.push(fields);
    lineNos.push(i + 1);
  }
  const n = rows.length;
  if (n === 0) fail(name, 'the file has a header but no data rows', {});
  const columns: Record<string, Float64Array> = {};
  const text: Record<string, readonly string[]> = {};
  header.forEach((col, j) => {
    if (j === tsIdx) return;
    if (!OHLCV_NAMES.has(col)) {
      const first = rows.find((r) => !MISSING.has(r[j].trim()))?.[j].trim();
      if (first !== undefined && !NUMBER.test(first)) {
        text[col] = rows.map((r) => r[j].trim());
        return;
      }
    }
    const arr = new Float64Array(n);
    for (let r = 0; r < n; r++) {
      const cell = rows[r][j].trim();
      if (MISSING.has(cell)) arr[r] = NaN;
      else if (NUMBER.test(cell)) arr[r] = Number(cell);
      else {
        fail(name, `row ${r + 1} (line ${lineNos[r]}), column '${rawHeader[j]}': '${cell}' is not a number`, {
          row: r + 1,
          line: lineNos[r],
          column: rawHeader[j],
          value: cell,
        });
      }
    }
    columns[col] = arr;
  });
  const timestamps = tsIdx < 0 ? undefined : rows.map((r) => r[tsIdx].trim());
  return { timestamps, columns, text, length: n };
}
