// Bars from CSV in the source system's columns (timestamp,symbol,tf,o,h,l,c,v,spread and any extra),
// with its header aliases, headerless fallback, per-row skip rules and counts (spec section 1).
import { BatonError } from '@baton/core';

/** The bars of one symbol, column by column, in file order. */
export interface Bars {
  readonly length: number;
  /** Timestamps as written (never normalised). */
  readonly ts: readonly string[];
  /** Lower-cased timeframe of each bar. */
  readonly tf: readonly string[];
  readonly o: Float64Array;
  readonly h: Float64Array;
  readonly l: Float64Array;
  readonly c: Float64Array;
  readonly v: Float64Array;
  readonly spread: Float64Array;
  /** The `zscore` column, copied into trade records; NaN where the file has none. */
  readonly zscore: Float64Array;
}

export type SkipReason = 'timestamp_missing' | 'price_parse_error' | 'timestamp_parse_error';

/** What loading dropped, as the source's `debug.csv_loader` reports it. */
export interface LoadReport {
  skipped_rows: number;
  reasons?: Partial<Record<SkipReason, number>>;
  last_error?: { code: SkipReason; line: number };
  /** Rows of other symbols, dropped without counting as skipped (as the source does). */
  other_symbol_rows: number;
}

export interface LoadOptions {
  /** The instrument: rows of other symbols are dropped; a file without a symbol column is this symbol. */
  symbol: string;
  /** The timeframe of rows with no `tf` cell. */
  timeframe: string;
  /** Refuse the file at the first skipped row instead of counting it. */
  strict?: boolean;
  /** Inclusive window, ISO-8601; rows outside it are dropped. */
  startTs?: string;
  endTs?: string;
  /** Name shown in errors. */
  source?: string;
}

const ALIASES = {
  timestamp: ['timestamp', 'time', 'datetime', 'date'],
  symbol: ['symbol', 'sym', 'ticker', 'instrument'],
  tf: ['tf', 'timeframe', 'interval', 'period'],
  o: ['o', 'open', 'open_price'],
  h: ['h', 'high', 'high_price'],
  l: ['l', 'low', 'low_price'],
  c: ['c', 'close', 'close_price'],
  v: ['v', 'volume', 'vol', 'qty'],
  spread: ['spread', 'spr', 'spread_pips'],
} as const;
type Field = keyof typeof ALIASES;
const POSITIONAL = ['timestamp', 'symbol', 'tf', 'o', 'h', 'l', 'c', 'v', 'spread'];
const FLOAT = /^\s*[+-]?(?:(?:\d[\d_]*)?\.?\d[\d_]*(?:[eE][+-]?\d+)?|(?:\d[\d_]*)\.|nan|inf|infinity)\s*$/i;

/**
 * Reads bars from CSV text (spec 1.1–1.2).
 *
 * @throws BatonError `E_INPUT_INVALID` for missing required columns, an empty symbol cell, a
 *   non-numeric volume or spread, a skipped row under `strict`, or no bar left.
 */
export function parseBars(text: string, options: LoadOptions): { bars: Bars; report: LoadReport } {
  const where = options.source ?? 'bars';
  const fail = (line: number, why: string): never => {
    throw new BatonError('E_INPUT_INVALID', `${where}:${line}: ${why}`, { details: { line } });
  };
  const lines = text.split(/\r?\n/);
  const header = splitCsv(lines[0] ?? '').map((s) => s.trim().toLowerCase());
  let cols = columnsOf(header);
  let first = 1;
  if (cols === undefined) {
    const known = header.filter((h) =>
      Object.values(ALIASES).some((a) => (a as readonly string[]).includes(h)),
    );
    const looksLikeData = header.some(
      (t) => /\d/.test(t) || (t.includes('t') && t.includes('-')) || t.includes('.'),
    );
    if (known.length >= 5 || !looksLikeData) {
      const missing = (['timestamp', 'o', 'h', 'l', 'c'] as Field[]).filter(
        (f) => !ALIASES[f].some((a) => header.includes(a)),
      );
      fail(1, `missing required columns: ${missing.join(', ')} (the header has: ${header.join(', ')})`);
    }
    // A headerless file: fixed positions; a first row spelling the column names is skipped.
    const named = header.length >= 9 && POSITIONAL.every((n, i) => header[i] === n);
    cols = columnsOf(POSITIONAL)!;
    first = named ? 1 : 0;
  }
  const symbol = options.symbol.toUpperCase();
  const start = options.startTs === undefined ? undefined : windowBound(options.startTs, '--start-ts');
  const end = options.endTs === undefined ? undefined : windowBound(options.endTs, '--end-ts');

  const n = lines.length;
  const ts: string[] = [];
  const tfs: string[] = [];
  const num = {
    o: new Float64Array(n),
    h: new Float64Array(n),
    l: new Float64Array(n),
    c: new Float64Array(n),
    v: new Float64Array(n),
    spread: new Float64Array(n),
    zscore: new Float64Array(n),
  };
  const report: LoadReport = { skipped_rows: 0, other_symbol_rows: 0 };
  const skip = (code: SkipReason, line: number) => {
    if (options.strict) fail(line, `row skipped (${code}) and --strict refuses skipped rows`);
    report.skipped_rows++;
    (report.reasons ??= {})[code] = (report.reasons[code] ?? 0) + 1;
    report.last_error = { code, line };
  };
  let k = 0;
  for (let i = first; i < n; i++) {
    const text = lines[i]!;
    if (text.length === 0 || text.trim() === '') continue;
    const cells = text.includes('"') ? splitCsv(text) : text.split(',');
    const line = i + 1;
    const stamp = cell(cells, cols.timestamp);
    if (stamp === undefined || stamp.trim() === '') {
      skip('timestamp_missing', line);
      continue;
    }
    const o = float(cell(cells, cols.o));
    const h = float(cell(cells, cols.h));
    const l = float(cell(cells, cols.l));
    const c = float(cell(cells, cols.c));
    if (o === undefined || h === undefined || l === undefined || c === undefined) {
      skip('price_parse_error', line);
      continue;
    }
    let sym = symbol;
    if (cols.symbol >= 0) {
      sym = (cell(cells, cols.symbol) ?? '').trim();
      if (sym === '') fail(line, 'the symbol cell is empty; every row needs its symbol');
    }
    const tfCell = cols.tf >= 0 ? (cell(cells, cols.tf) ?? '').trim().toLowerCase() : '';
    if (sym.toUpperCase() !== symbol) {
      report.other_symbol_rows++;
      continue;
    }
    if (start !== undefined || end !== undefined) {
      const at = parseTimestamp(stamp);
      if (at === undefined) {
        skip('timestamp_parse_error', line);
        continue;
      }
      if ((start !== undefined && at < start) || (end !== undefined && at > end)) continue;
    }
    const v = optionalFloat(cell(cells, cols.v), 'volume', line, fail);
    const spread = optionalFloat(cell(cells, cols.spread), 'spread', line, fail);
    ts.push(stamp);
    tfs.push(tfCell === '' ? options.timeframe.toLowerCase() : tfCell);
    num.o[k] = o;
    num.h[k] = h;
    num.l[k] = l;
    num.c[k] = c;
    num.v[k] = v;
    num.spread[k] = spread;
    num.zscore[k] = cols.zscore >= 0 ? (float(cell(cells, cols.zscore)) ?? NaN) : NaN;
    k++;
  }
  if (k === 0) {
    throw new BatonError('E_INPUT_INVALID', `${where}: no bar of ${symbol} survives loading (no_bars)`, {
      details: { report },
    });
  }
  const cut = (a: Float64Array) => a.subarray(0, k);
  return {
    bars: {
      length: k,
      ts,
      tf: tfs,
      o: cut(num.o),
      h: cut(num.h),
      l: cut(num.l),
      c: cut(num.c),
      v: cut(num.v),
      spread: cut(num.spread),
      zscore: cut(num.zscore),
    },
    report,
  };
}

type Columns = Record<Field, number> & { zscore: number };

function columnsOf(header: readonly string[]): Columns | undefined {
  const out = { zscore: header.indexOf('zscore') } as Columns;
  for (const field of Object.keys(ALIASES) as Field[]) {
    const alias = ALIASES[field].find((a) => header.includes(a));
    out[field] = alias === undefined ? -1 : header.indexOf(alias);
  }
  return out.timestamp < 0 || out.o < 0 || out.h < 0 || out.l < 0 || out.c < 0 ? undefined : out;
}

function cell(cells: readonly string[], index: number): string | undefined {
  return index < 0 ? undefined : cells[index];
}

/** Python's float(): surrounding spaces, underscores between digits, nan and inf accepted. */
function float(s: string | undefined): number | undefined {
  if (s === undefined) return undefined;
  const n = Number(s);
  if (n === n && s.length > 0 && !/[xXbBoO]/.test(s) && s.trim() !== '') return n;
  if (!FLOAT.test(s)) return undefined;
  const t = s.trim().toLowerCase().replace(/_/g, '');
  if (t.endsWith('nan')) return NaN;
  if (t.endsWith('inf') || t.endsWith('infinity')) return t.startsWith('-') ? -Infinity : Infinity;
  return Number(t);
}

function optionalFloat(
  s: string | undefined,
  what: string,
  line: number,
  fail: (line: number, why: string) => never,
): number {
  if (s === undefined || s.trim() === '') return 0;
  const n = float(s);
  return n === undefined ? fail(line, `${what} '${s}' is not a number (a blank cell counts as 0)`) : n;
}

function windowBound(s: string, flag: string): number {
  const t = parseTimestamp(s);
  if (t === undefined) {
    throw new BatonError(
      'E_INVALID_OPTION',
      `${flag} '${s}' is not an ISO-8601 time (e.g. 2018-01-02T08:00:00Z)`,
    );
  }
  return t;
}

/** Splits one CSV line, honouring double quotes ("" inside quotes is a quote). */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const ch = line[i]!;
    if (quoted) {
      if (ch === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cur += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out;
}

const ISO =
  /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6})\d*)?)?\s*(Z|[+-]\d{2}:?\d{2})?$/i;
const COMPACT = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})(?:\.(\d{1,6})\d*)?(Z|[+-]\d{2}:?\d{2})?$/i;
const DATE_ONLY = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * A timestamp as UTC microseconds since the epoch: ISO-8601 with `Z`, an offset or none (naive is
 * UTC), a space or `T` between date and time, or the compact `YYYYMMDDTHHMMSS`. Undefined when it
 * is none of these.
 */
export function parseTimestamp(s: string): number | undefined {
  const t = s.trim();
  const m = ISO.exec(t) ?? COMPACT.exec(t);
  if (!m) {
    const d = DATE_ONLY.exec(t);
    return d ? micros(+d[1]!, +d[2]!, +d[3]!, 0, 0, 0, 0, 0) : undefined;
  }
  const frac = m[7] ? Number(m[7].padEnd(6, '0')) : 0;
  let offset = 0;
  const z = m[8];
  if (z && z.toUpperCase() !== 'Z') {
    const digits = z.replace(':', '');
    offset = (digits[0] === '-' ? -1 : 1) * (Number(digits.slice(1, 3)) * 60 + Number(digits.slice(3, 5)));
  }
  return micros(+m[1]!, +m[2]!, +m[3]!, +m[4]!, +m[5]!, m[6] ? +m[6] : 0, frac, offset);
}

function micros(
  y: number,
  mo: number,
  d: number,
  h: number,
  mi: number,
  s: number,
  us: number,
  offsetMin: number,
): number | undefined {
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return undefined;
  const ms = Date.UTC(y, mo - 1, d, h, mi, s);
  if (new Date(ms).getUTCDate() !== d) return undefined;
  return (ms - offsetMin * 60_000) * 1000 + us;
}

/** `YYYY-MM-DDTHH:MM:SS[.ffffff]Z` for UTC microseconds (the equity curve's form). */
export function formatMicros(us: number): string {
  const ms = Math.floor(us / 1000);
  const rest = us - ms * 1000;
  const iso = new Date(ms).toISOString(); // YYYY-MM-DDTHH:MM:SS.mmmZ
  const sub = (((ms % 1000) + 1000) % 1000) * 1000 + rest;
  return sub === 0 ? `${iso.slice(0, 19)}Z` : `${iso.slice(0, 19)}.${String(sub).padStart(6, '0')}Z`;
}
