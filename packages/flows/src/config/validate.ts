// Checks one kind's merged value against its zod schema and turns zod's issues into diagnostics that
// name the file, line and column, the key path, what was expected and what was found. Unknown keys
// are warnings with a did-you-mean; the value is validated again without them.
import type { z } from 'zod';
import type { core } from 'zod';
import { nearest } from '@baton/core';
import { formatPath, type PathSegment } from './paths.js';
import type { Diagnostics } from './diagnostics.js';
import type { SourceLocation } from './types.js';
import type { EnvOrigin } from './source.js';

type Issue = core.$ZodIssue;

/** Finds where the value (or, with `key`, the key) at a path within the kind was written. */
export type Locator = (segments: readonly PathSegment[], key?: boolean) => SourceLocation;

/** What validation needs to know about the source of each value of a kind. */
export interface ValueSources {
  locate: Locator;
  /** The environment reference a value came from, if any (its value is never shown in a message). */
  envOf(segments: readonly PathSegment[]): EnvOrigin | undefined;
}

/**
 * Validates `value` (a kind's merged value) with `schema`. Errors and warnings go to `diags`, with
 * paths that start with `kind`. Returns the parsed value, or undefined when there was an error.
 */
export function validateKind(
  kind: string,
  schema: z.ZodType,
  value: unknown,
  sources: ValueSources,
  diags: Diagnostics,
): unknown {
  let current = value;
  const warned = new Set<string>();
  // Each round mends what it can (drops unknown keys, gives back the text of a reference typed as a
  // number where the schema wants text) and validates again; nested problems may surface later.
  for (let round = 0; round < 8; round++) {
    const result = schema.safeParse(current, { reportInput: true });
    if (result.success) return inOrderOf(current, result.data);
    const unknown = result.error.issues.filter((i) => i.code === 'unrecognized_keys');
    for (const issue of unknown) {
      const known = objectKeysAt(schema, issue.path as PathSegment[]);
      for (const key of issue.keys) {
        const segs = [...(issue.path as PathSegment[]), key];
        const path = pathIn(kind, segs);
        if (warned.has(path)) continue;
        warned.add(path);
        const guess = nearest(key, known);
        const hint = guess
          ? ` (did you mean '${guess}'?)`
          : known.length
            ? ` (known keys: ${known.join(', ')})`
            : '';
        diags.warning(sources.locate(segs, true), path, `unknown key '${key}' is ignored${hint}`);
      }
    }
    const texts = result.error.issues.flatMap((i) => {
      const text =
        i.code === 'invalid_type' && i.expected === 'string'
          ? sources.envOf(i.path as PathSegment[])?.text
          : undefined;
      return text === undefined ? [] : [{ path: i.path as PathSegment[], text }];
    });
    if (unknown.length === 0 && texts.length === 0) {
      for (const issue of result.error.issues) report(kind, issue, [], sources, diags);
      return undefined;
    }
    current = mended(current, unknown, texts);
  }
  return undefined;
}

/** A key path within a kind; a standalone document (kind '') has none to prefix. */
function pathIn(kind: string, segs: readonly PathSegment[]): string {
  return formatPath(kind ? [kind, ...segs] : segs);
}

function report(
  kind: string,
  issue: Issue,
  prefix: PathSegment[],
  sources: ValueSources,
  diags: Diagnostics,
): void {
  const segs = [...prefix, ...(issue.path as PathSegment[])];
  if (issue.code === 'invalid_union' && issue.errors.length > 0) {
    // Report the branch that got furthest: the one whose first issue is deepest, then the fewest issues.
    const best = [...issue.errors].sort((a, b) => depth(b) - depth(a) || a.length - b.length)[0]!;
    for (const sub of best) report(kind, sub, segs, sources, diags);
    return;
  }
  const missing = issue.code === 'invalid_type' && issue.input === undefined;
  const loc = sources.locate(missing ? segs.slice(0, -1) : segs);
  // A value read from the environment may be a secret: say where it came from, never what it is.
  const env = sources.envOf(segs);
  diags.error(
    loc,
    pathIn(kind, segs),
    describeIssue(issue, env && `a ${kindOf(issue.input)} from ${env.raw}`),
  );
}

function depth(issues: Issue[]): number {
  return Math.max(0, ...issues.map((i) => i.path.length));
}

/** What was expected and what was found, in words; `hidden` replaces the found value (a secret's place). */
function describeIssue(issue: Issue, hidden?: string): string {
  const found = hidden ? ` found ${hidden}` : 'input' in issue ? ` found ${show(issue.input)}` : '';
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return `required key is missing (expected ${issue.expected})`;
      return `expected ${issue.expected},${found}`;
    case 'too_big':
      return `expected ${issue.origin === 'array' ? 'at most' : issue.inclusive === false ? 'less than' : 'at most'} ${String(issue.maximum)}${issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : ''},${issue.origin === 'array' ? ` found ${(issue.input as unknown[] | undefined)?.length ?? '?'} items` : found}`;
    case 'too_small':
      return `expected ${issue.origin === 'array' ? 'at least' : issue.inclusive === false ? 'more than' : 'at least'} ${String(issue.minimum)}${issue.origin === 'array' ? ' items' : issue.origin === 'string' ? ' characters' : ''},${issue.origin === 'array' ? ` found ${(issue.input as unknown[] | undefined)?.length ?? '?'} items` : found}`;
    case 'invalid_value': {
      const guess =
        typeof issue.input === 'string' ? nearest(issue.input, issue.values.map(String)) : undefined;
      return `expected one of ${issue.values.map((v) => show(v)).join(', ')},${found}${guess ? ` (did you mean '${guess}'?)` : ''}`;
    }
    case 'invalid_format':
      return `expected ${issue.format === 'regex' ? `text matching ${issue.pattern ?? 'the pattern'}` : `a ${issue.format}`},${found}`;
    case 'not_multiple_of':
      return `expected a multiple of ${String(issue.divisor)},${found}`;
    case 'invalid_union':
      return issue.discriminator
        ? `'${issue.discriminator}' must be one of ${('options' in issue ? (issue.options ?? []) : []).map((v) => show(v)).join(', ')}`
        : `does not match any allowed form,${found}`;
    default:
      return issue.message;
  }
}

function show(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return `'${v.length > 60 ? `${v.slice(0, 60)}…` : v}' (text)`;
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  return String(v);
}

/** `output` with its keys in the order `input` (the file) has them, at every level (zod orders by the schema). */
function inOrderOf(input: unknown, output: unknown): unknown {
  if (Array.isArray(output) && Array.isArray(input)) return output.map((v, i) => inOrderOf(input[i], v));
  if (!isPlainObject(output) || !isPlainObject(input)) return output;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(input)) if (Object.hasOwn(output, k)) out[k] = inOrderOf(input[k], output[k]);
  for (const k of Object.keys(output)) if (!Object.hasOwn(out, k)) out[k] = output[k];
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function kindOf(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'mapping' : typeof v;
}

/** A copy of `value` without the unknown keys, and with the given texts in place of typed references. */
function mended(value: unknown, unknown: Issue[], texts: { path: PathSegment[]; text: string }[]): unknown {
  const copy = structuredClone(value);
  const at = (path: readonly PropertyKey[]) =>
    path.reduce<unknown>((t, seg) => (t as Record<PropertyKey, unknown> | undefined)?.[seg], copy);
  for (const issue of unknown) {
    if (issue.code !== 'unrecognized_keys') continue;
    const target = at(issue.path);
    if (target && typeof target === 'object')
      for (const k of issue.keys) delete (target as Record<string, unknown>)[k];
  }
  for (const { path, text } of texts) {
    const parent = at(path.slice(0, -1));
    if (parent && typeof parent === 'object')
      (parent as Record<PropertyKey, unknown>)[path[path.length - 1]!] = text;
  }
  return copy;
}

interface DefLike {
  type: string;
  shape?: Record<string, unknown>;
  innerType?: unknown;
  in?: unknown;
  out?: unknown;
  valueType?: unknown;
  element?: unknown;
  options?: unknown[];
  items?: unknown[];
  left?: unknown;
  right?: unknown;
  getter?: () => unknown;
}

const defOf = (s: unknown): DefLike | undefined => (s as { _zod?: { def?: DefLike } })?._zod?.def;

/** The keys an object schema at `path` accepts (for did-you-mean), following wrappers, records, lists and unions. */
function objectKeysAt(schema: unknown, path: readonly PathSegment[]): string[] {
  const keys = new Set<string>();
  const walk = (s: unknown, i: number, budget: number): void => {
    const def = defOf(s);
    if (!def || budget <= 0) return;
    switch (def.type) {
      case 'optional':
      case 'nullable':
      case 'default':
      case 'readonly':
      case 'catch':
      case 'nonoptional':
        return walk(def.innerType, i, budget - 1);
      case 'pipe':
        return walk(def.in, i, budget - 1);
      case 'lazy':
        return walk(def.getter?.(), i, budget - 1);
      case 'union':
        for (const o of def.options ?? []) walk(o, i, budget - 1);
        return;
      case 'intersection':
        walk(def.left, i, budget - 1);
        walk(def.right, i, budget - 1);
        return;
    }
    if (i === path.length) {
      if (def.type === 'object') for (const k of Object.keys(def.shape ?? {})) keys.add(k);
      return;
    }
    const seg = path[i]!;
    if (def.type === 'object' && typeof seg === 'string') walk(def.shape?.[seg], i + 1, budget - 1);
    else if (def.type === 'record') walk(def.valueType, i + 1, budget - 1);
    else if (def.type === 'array') walk(def.element, i + 1, budget - 1);
    else if (def.type === 'tuple' && typeof seg === 'number') walk(def.items?.[seg], i + 1, budget - 1);
  };
  walk(schema, 0, 200);
  return [...keys];
}
