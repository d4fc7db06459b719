// What an artifact's bytes are, and their digest. The same data always gives the same bytes (JSON
// is written with its keys sorted), so the same output of two runs has the same digest.
import { createHash } from 'node:crypto';
import { BatonError } from '../errors.js';
import { toJsonText } from '../json.js';

/** What `put` accepts: bytes, text, or a JSON value. */
export type ArtifactData = Uint8Array | string | null | boolean | number | readonly unknown[] | object;

export interface ArtifactContent {
  readonly bytes: Buffer;
  readonly mediaType: string;
  readonly digest: string;
}

const MEDIA_TYPE = /^[a-z0-9][a-z0-9!#$&^_.+-]*\/[a-z0-9][a-z0-9!#$&^_.+-]*(\s*;.*)?$/i;

/** `sha256:<hex>` of `bytes`. */
export function digestOf(bytes: Uint8Array): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

/**
 * JSON text with every object's keys in sorted order (UTF-16 code units, as RFC 8785 sorts them),
 * written out by hand: an object built by JavaScript puts integer-like keys first whatever order
 * they were inserted in. No checks (see canonicalJson); what JSON.stringify drops, it drops.
 */
export function sortedJson(value: unknown): string | undefined {
  if (
    value !== null &&
    typeof value === 'object' &&
    typeof (value as { toJSON?: unknown }).toJSON === 'function'
  )
    value = (value as { toJSON(): unknown }).toJSON();
  if (Array.isArray(value)) return `[${value.map((v) => sortedJson(v) ?? 'null').join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts: string[] = [];
    for (const key of Object.keys(value).sort()) {
      const v = sortedJson((value as Record<string, unknown>)[key]);
      if (v !== undefined) parts.push(`${JSON.stringify(key)}:${v}`);
    }
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value);
}

/** JSON text with every object's keys in sorted order; refuses what JSON would change. */
export function canonicalJson(value: unknown, where: string): string {
  // toJsonText refuses what JSON would change (undefined, NaN, Dates, cycles …) with a clear error
  toJsonText(value, where);
  return sortedJson(value)!;
}

/**
 * The bytes and media type of `data`: bytes as given (`application/octet-stream` by default),
 * text as UTF-8 (`text/plain; charset=utf-8`), anything else as canonical JSON (`application/json`).
 */
export function contentOf(data: ArtifactData, name: string, mediaType?: string): ArtifactContent {
  checkMediaType(name, mediaType);
  let bytes: Buffer;
  let type: string;
  if (data instanceof Uint8Array) {
    // a copy: the caller may reuse its buffer while the blob is being written
    bytes = Buffer.from(data);
    type = 'application/octet-stream';
  } else if (typeof data === 'string') {
    bytes = Buffer.from(data, 'utf8');
    type = 'text/plain; charset=utf-8';
  } else {
    bytes = Buffer.from(canonicalJson(data, `artifact '${name}'`), 'utf8');
    type = 'application/json';
  }
  return { bytes, mediaType: mediaType ?? type, digest: digestOf(bytes) };
}

/**
 * The content of a file read for the ledger, whose digest is known (input-files.ts): its bytes as
 * read, not copied (nothing else holds them yet), `application/octet-stream` by default.
 */
export function fileContent(
  file: { name: string; bytes: Buffer; digest: string },
  mediaType?: string,
): ArtifactContent {
  checkMediaType(file.name, mediaType);
  return { bytes: file.bytes, mediaType: mediaType ?? 'application/octet-stream', digest: file.digest };
}

function checkMediaType(name: string, mediaType: string | undefined): void {
  if (mediaType !== undefined && (typeof mediaType !== 'string' || !MEDIA_TYPE.test(mediaType)))
    throw new BatonError(
      'E_INVALID_OPTION',
      `artifact '${name}': mediaType must look like 'type/subtype' (e.g. 'text/csv'), got ${JSON.stringify(mediaType)}`,
    );
}

function hasControlCharacter(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) < 0x20) return true;
  return false;
}

/** Checks an artifact name: 1–200 characters, no control characters (names appear in paths and tables). */
export function checkArtifactName(name: unknown): string {
  if (typeof name !== 'string' || name.length === 0 || name.length > 200 || hasControlCharacter(name))
    throw new BatonError(
      'E_INVALID_OPTION',
      `an artifact name must be 1 to 200 characters without control characters, got ${JSON.stringify(name)}`,
    );
  return name;
}
