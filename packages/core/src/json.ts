import { BatonError } from './errors.js';
import { textProblem } from './text.js';

/** A value that survives JSON.stringify/JSON.parse unchanged. Execution inputs, outputs and results are these. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/**
 * Serialises `value` to JSON text, refusing anything JSON would silently change or drop:
 * undefined, functions, symbols, bigints, NaN/Infinity, Dates, Maps, Sets, class instances and cycles,
 * and strings PostgreSQL cannot store (a NUL character, a lone surrogate).
 * `where` names the value in the error, e.g. "input of job 'send-email'".
 */
export function toJsonText(value: unknown, where: string): string {
  const problem = findNonJson(value, '$', new Set());
  if (problem) {
    throw new BatonError(
      'E_NOT_JSON',
      `${where} is not JSON-serializable: ${problem}. Pass plain objects, arrays, strings, finite numbers, booleans or null (convert Dates to ISO strings yourself).`,
      { details: { where } },
    );
  }
  return JSON.stringify(value);
}

function findNonJson(value: unknown, path: string, seen: Set<object>): string | undefined {
  switch (typeof value) {
    case 'string': {
      const p = textProblem(value);
      return p ? `${path} ${p}` : undefined;
    }
    case 'boolean':
      return undefined;
    case 'number':
      return Number.isFinite(value) ? undefined : `${path} is ${String(value)}`;
    case 'undefined':
      return `${path} is undefined`;
    case 'bigint':
      return `${path} is a bigint`;
    case 'function':
      return `${path} is a function`;
    case 'symbol':
      return `${path} is a symbol`;
  }
  if (value === null) return undefined;
  const obj = value as object;
  if (seen.has(obj)) return `${path} is a circular reference`;
  const proto = Object.getPrototypeOf(obj);
  if (Array.isArray(obj)) {
    seen.add(obj);
    for (let i = 0; i < obj.length; i++) {
      const p = findNonJson(obj[i], `${path}[${i}]`, seen);
      if (p) return p;
    }
    seen.delete(obj);
    return undefined;
  }
  if (proto !== Object.prototype && proto !== null) {
    return `${path} is a ${proto?.constructor?.name ?? 'non-plain object'}, not a plain object`;
  }
  seen.add(obj);
  for (const key of Object.keys(obj)) {
    const k = textProblem(key);
    if (k) return `the key ${JSON.stringify(key)} of ${path} ${k}`;
    const p = findNonJson((obj as Record<string, unknown>)[key], `${path}.${key}`, seen);
    if (p) return p;
  }
  seen.delete(obj);
  return undefined;
}
