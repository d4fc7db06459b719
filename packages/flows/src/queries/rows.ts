// Rows as JSON: what the drivers return that JSON cannot carry is turned into what it can.

/**
 * Makes `rows` JSON-safe in place and returns them: a bigint becomes a number when it is a safe
 * integer, else its decimal text; binary data (Buffer) becomes base64; a Date its ISO text; NaN
 * and ±Infinity (PostgreSQL floats) their text. Arrays and objects (PostgreSQL arrays, jsonb) are
 * converted inside.
 */
export function toJsonRows(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  // The common cells (text, safe numbers, null) are left as they are without a call: this loop is
  // most of what a run costs beyond the statement itself.
  for (const row of rows) {
    for (const key in row) {
      const v = row[key];
      if (
        typeof v === 'bigint' ||
        (typeof v === 'number' && !Number.isFinite(v)) ||
        (typeof v === 'object' && v !== null)
      ) {
        row[key] = toJson(v);
      }
    }
  }
  return rows;
}

function toJson(v: unknown): unknown {
  if (typeof v === 'bigint')
    return v >= Number.MIN_SAFE_INTEGER && v <= Number.MAX_SAFE_INTEGER ? Number(v) : String(v);
  if (typeof v === 'number') return Number.isFinite(v) ? v : String(v);
  if (typeof v !== 'object' || v === null) return v;
  if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64');
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.toISOString();
  if (Array.isArray(v)) return v.map(toJson);
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, toJson(x)]));
}
