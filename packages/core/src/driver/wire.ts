// The protocol between a process holding an embedded store and the local processes it serves:
// one JSON object per line. Values JSON has no form for (dates, big integers, bytes, undefined,
// infinities and NaN, which a float8 parameter or column may hold) travel tagged under a key no row
// can hold: jsonb refuses the NUL character, even escaped.
import { StringDecoder } from 'node:string_decoder';
import { BatonError } from '../errors.js';

const TAG = '\u0000';

/** A message as it goes on the wire, newline included. */
export function encodeLine(message: unknown): string {
  return `${JSON.stringify(message, function (this: Record<string, unknown>, key, value: unknown) {
    const raw = this[key];
    if (raw instanceof Date)
      return { [TAG]: 'date', v: Number.isNaN(raw.getTime()) ? null : raw.toISOString() };
    if (typeof raw === 'bigint') return { [TAG]: 'bigint', v: raw.toString() };
    if (raw instanceof Uint8Array) return { [TAG]: 'bytes', v: Buffer.from(raw).toString('base64') };
    if (typeof raw === 'number' && !Number.isFinite(raw)) return { [TAG]: 'number', v: String(raw) };
    if (raw === undefined && Array.isArray(this)) return { [TAG]: 'undefined' };
    return value;
  })}\n`;
}

/** Reads one line back into the values that were encoded. */
export function decodeLine(line: string): unknown {
  return JSON.parse(line, (_key, value: unknown) => {
    if (value === null || typeof value !== 'object' || !(TAG in value)) return value;
    const tagged = value as { [TAG]: string; v?: string | null };
    switch (tagged[TAG]) {
      case 'date':
        return new Date(tagged.v ?? Number.NaN);
      case 'bigint':
        return BigInt(tagged.v ?? '0');
      case 'bytes':
        return new Uint8Array(Buffer.from(tagged.v ?? '', 'base64'));
      case 'undefined':
        return undefined;
      case 'number':
        return Number(tagged.v);
      default:
        return value;
    }
  });
}

/** Splits a byte stream into lines; refuses a line longer than `maxBytes` (a peer that is not ours). */
export class LineReader {
  private partial = '';
  // A character split between two chunks is decoded once both have arrived.
  private readonly decoder = new StringDecoder('utf8');

  constructor(private readonly maxBytes: number) {}

  push(chunk: Buffer): string[] {
    const text = this.partial + this.decoder.write(chunk);
    const lines = text.split('\n');
    this.partial = lines.pop() ?? '';
    if (this.partial.length > this.maxBytes)
      throw new BatonError(
        'E_INVALID_STATE',
        `a message of more than ${this.maxBytes} bytes arrived; closing the connection`,
      );
    return lines.filter((l) => l.length > 0);
  }
}

/** An error as it crosses the wire: what callers branch on (message, SQLSTATE code) survives. */
export interface WireError {
  message: string;
  code?: string;
  name?: string;
  detail?: string;
}

export function toWireError(err: unknown): WireError {
  const e = err as { message?: unknown; code?: unknown; name?: unknown; detail?: unknown };
  return {
    message: typeof e?.message === 'string' ? e.message : String(err),
    ...(typeof e?.code === 'string' ? { code: e.code } : {}),
    ...(typeof e?.name === 'string' ? { name: e.name } : {}),
    ...(typeof e?.detail === 'string' ? { detail: e.detail } : {}),
  };
}

export function fromWireError(w: WireError): Error {
  const err = Object.assign(new Error(w.message), w.code === undefined ? {} : { code: w.code });
  if (w.detail !== undefined) Object.assign(err, { detail: w.detail });
  if (w.name && w.name !== 'Error') err.name = w.name;
  return err;
}
