// Key paths into the merged configuration: `routing_rules.environment_routing.bug_fix.priority`,
// list items as `params[0]`, and keys that contain a dot or a bracket quoted: `model_scores["gpt-4.5"]`.
import { BatonError } from '@baton/core';
import type { SourceLocation } from './types.js';

export type PathSegment = string | number;

const PLAIN_KEY = /^[^.[\]"]+$/;

/** Appends one segment to a path string. */
export function joinPath(path: string, segment: PathSegment): string {
  if (typeof segment === 'number') return `${path}[${segment}]`;
  if (!PLAIN_KEY.test(segment)) return `${path}[${JSON.stringify(segment)}]`;
  return path ? `${path}.${segment}` : segment;
}

/** The path string of a list of segments. */
export function formatPath(segments: readonly PathSegment[]): string {
  return segments.reduce<string>((p, s) => joinPath(p, s), '');
}

/** Splits a path string into segments; throws `E_INVALID_OPTION` on a malformed path. */
export function parsePath(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  let i = 0;
  const fail = (why: string) => {
    throw new BatonError(
      'E_INVALID_OPTION',
      `bad key path '${path}' at character ${i + 1}: ${why}. Write keys separated by dots, list items as [0], and keys with dots as ["a.b"]`,
    );
  };
  while (i < path.length) {
    if (path[i] === '[') {
      const end = path.indexOf(']', i);
      if (end < 0) fail('unclosed [');
      const inner = path.slice(i + 1, end);
      if (/^\d+$/.test(inner)) out.push(Number(inner));
      else {
        try {
          const key: unknown = JSON.parse(inner);
          if (typeof key !== 'string') fail('expected a number or a quoted key inside [ ]');
          out.push(key as string);
        } catch {
          fail('expected a number or a quoted key inside [ ]');
        }
      }
      i = end + 1;
      if (path[i] === '.') i++;
    } else {
      let end = i;
      while (end < path.length && path[end] !== '.' && path[end] !== '[') end++;
      if (end === i) fail('empty key');
      out.push(path.slice(i, end));
      i = end;
      if (path[i] === '.') {
        i++;
        if (i === path.length) fail('trailing dot');
      }
    }
  }
  return out;
}

/** The value at `segments` inside a plain value, or undefined. */
export function valueAt(root: unknown, segments: readonly PathSegment[]): unknown {
  let cur: unknown = root;
  for (const s of segments) {
    if (cur === null || typeof cur !== 'object') return undefined;
    if (Array.isArray(cur)) {
      if (typeof s !== 'number') return undefined;
      cur = cur[s];
    } else {
      if (typeof s !== 'string' || !Object.hasOwn(cur, s)) return undefined;
      cur = (cur as Record<string, unknown>)[s];
    }
  }
  return cur;
}

/**
 * Where the value at `segments` was set, or else the nearest enclosing value that was (a missing key
 * is reported at its mapping). `exact` tells `locate` whether it is asked for the full path.
 */
export function nearestLocation(
  segments: readonly PathSegment[],
  locate: (path: string, exact: boolean) => SourceLocation | undefined,
): SourceLocation | undefined {
  for (let n = segments.length; n > 0; n--) {
    const loc = locate(formatPath(segments.slice(0, n)), n === segments.length);
    if (loc) return loc;
  }
  return undefined;
}
