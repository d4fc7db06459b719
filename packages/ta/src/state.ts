/**
 * Generic capture and restore of a streaming machine's state. Machines keep their
 * state in plain fields (numbers, booleans, Float64Arrays, nested cells), so one
 * reflective walk serves every indicator: snapshot, restore and peek cannot forget
 * a field that an indicator adds later.
 */
import { TaError } from './errors.js';

/** A captured state tree (in memory, typed arrays copied). */
export type StateTree = { [key: string]: StateValue };
/** One value inside a {@link StateTree}. */
export type StateValue = number | boolean | string | null | Float64Array | StateValue[] | StateTree;

/** JSON form of a state tree: numbers stay numbers; NaN is `null`; ±Infinity are strings. */
export type JsonValue = number | boolean | string | null | JsonValue[] | { [key: string]: JsonValue };

function captureValue(v: unknown): StateValue {
  if (v === null || typeof v === 'number' || typeof v === 'boolean' || typeof v === 'string') return v;
  if (v instanceof Float64Array) return v.slice();
  if (Array.isArray(v)) return v.map(captureValue);
  if (typeof v === 'object') return capture(v as object);
  throw new TaError('E_SNAPSHOT_INVALID', `cannot capture a state field of type ${typeof v}`);
}

/** Deep copy of every own field of `obj`. */
export function capture(obj: object): StateTree {
  const out: StateTree = {};
  for (const [k, v] of Object.entries(obj)) {
    if (typeof v === 'function' || v === undefined) continue;
    out[k] = captureValue(v);
  }
  return out;
}

function restoreInto(target: Record<string, unknown>, tree: StateTree): void {
  for (const [k, v] of Object.entries(tree)) {
    const cur = target[k];
    if (v instanceof Float64Array) {
      if (cur instanceof Float64Array && cur.length === v.length) cur.set(v);
      else target[k] = v.slice();
    } else if (Array.isArray(v)) {
      if (Array.isArray(cur) && cur.length === v.length) {
        for (let i = 0; i < v.length; i++) {
          const item = v[i];
          const curItem: unknown = cur[i];
          if (
            item !== null &&
            typeof item === 'object' &&
            !(item instanceof Float64Array) &&
            !Array.isArray(item) &&
            curItem !== null &&
            typeof curItem === 'object'
          ) {
            restoreInto(curItem as Record<string, unknown>, item);
          } else {
            cur[i] = item instanceof Float64Array ? item.slice() : item;
          }
        }
      } else target[k] = v.map((x) => (x instanceof Float64Array ? x.slice() : x));
    } else if (v !== null && typeof v === 'object') {
      if (cur !== null && typeof cur === 'object') restoreInto(cur as Record<string, unknown>, v);
      else
        throw new TaError('E_SNAPSHOT_INVALID', `snapshot field "${k}" does not match the machine's shape`);
    } else {
      target[k] = v;
    }
  }
}

/** Writes a captured tree back into `obj`, keeping its prototypes and typed arrays. */
export function restore(obj: object, tree: StateTree): void {
  restoreInto(obj as Record<string, unknown>, tree);
}

function encodeNumber(x: number): JsonValue {
  if (Number.isFinite(x)) return Object.is(x, -0) ? '-0' : x;
  if (Number.isNaN(x)) return null;
  return x > 0 ? 'Infinity' : '-Infinity';
}

/** Converts a state tree to plain JSON (NaN → null, ±Infinity/-0 → strings, Float64Array → `{ $f64: [...] }`). */
export function toJson(v: StateValue): JsonValue {
  if (typeof v === 'number') return encodeNumber(v);
  if (v === null || typeof v === 'boolean') return v;
  if (typeof v === 'string') return v === 'Infinity' || v === '-Infinity' || v === '-0' ? { $str: v } : v;
  if (v instanceof Float64Array) return { $f64: Array.from(v, encodeNumber) };
  if (Array.isArray(v)) return v.map(toJson);
  const out: { [key: string]: JsonValue } = {};
  for (const [k, x] of Object.entries(v)) out[k] = toJson(x);
  return out;
}

function decodeNumber(x: JsonValue): number {
  if (typeof x === 'number') return x;
  if (x === null) return NaN;
  if (x === 'Infinity') return Infinity;
  if (x === '-Infinity') return -Infinity;
  if (x === '-0') return -0;
  throw new TaError('E_SNAPSHOT_INVALID', `snapshot holds ${JSON.stringify(x)} where a number was expected`);
}

/** Inverse of {@link toJson}. */
export function fromJson(v: JsonValue): StateValue {
  if (v === null || typeof v === 'number') return decodeNumber(v);
  if (typeof v === 'boolean') return v;
  if (typeof v === 'string') return v === 'Infinity' || v === '-Infinity' || v === '-0' ? decodeNumber(v) : v;
  if (Array.isArray(v)) return v.map(fromJson);
  const f64 = v['$f64'];
  if (Array.isArray(f64)) return Float64Array.from(f64, decodeNumber);
  const s = v['$str'];
  if (typeof s === 'string') return s;
  const out: StateTree = {};
  for (const [k, x] of Object.entries(v)) out[k] = fromJson(x);
  return out;
}
