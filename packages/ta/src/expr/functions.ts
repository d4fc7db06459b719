/**
 * The scalar helpers of rule expressions: `abs`, `min`, `max`, `round`, `len`, `lower`, `upper`,
 * `contains`, `starts_with`, `coalesce`. They work on plain values only; a series argument goes to
 * the indicator of that name when there is one (`max(close, 20)` is the rolling maximum).
 * Shared by the type checker, constant folding and the evaluator, so all three agree.
 */
import type { ExprType } from './ir.js';
import { contains as listContains } from './ops.js';

/** What a helper needs of one argument, for messages and static checks. */
type Want = 'number' | 'string' | 'list' | 'sized' | 'haystack' | 'any';

/** One helper: its arity, what its arguments must be, its result type and its implementation. */
export interface ScalarFunction {
  readonly name: string;
  readonly usage: string;
  readonly minArgs: number;
  /** Most arguments; Infinity for variadic helpers. */
  readonly maxArgs: number;
  /** What each argument must be; the last entry repeats for variadic helpers. */
  readonly wants: readonly Want[];
  /** The result type, given the static types of the arguments. */
  result(types: readonly ExprType[]): ExprType;
  /**
   * Computes the value from arguments already checked against `wants` (call it through
   * {@link callHelper}); throws {@link HelperArgError} for what `wants` cannot say.
   */
  apply(args: readonly unknown[]): unknown;
}

/** An argument of the wrong kind at run time; the evaluator adds the position. */
export class HelperArgError extends Error {
  constructor(
    message: string,
    readonly argIndex: number,
  ) {
    super(message);
  }
}

const WANT_TEXT: Record<Want, string> = {
  number: 'a number',
  string: 'a string',
  list: 'a list',
  sized: 'a string, list or object',
  haystack: 'a string or list',
  any: 'a value',
};

/** Static types that may satisfy a want (`any` is checked at evaluation). */
const WANT_TYPES: Record<Want, readonly ExprType[]> = {
  number: ['scalar', 'any'],
  string: ['string', 'any'],
  list: ['list', 'any'],
  sized: ['string', 'list', 'object', 'any'],
  haystack: ['string', 'list', 'any'],
  any: ['scalar', 'string', 'bool', 'null', 'list', 'object', 'any'],
};

/** True when a value of static type `t` may be what `want` asks for. */
export function mayBe(want: Want, t: ExprType): boolean {
  return WANT_TYPES[want].includes(t);
}

/** `a string`, `a number`…: what an argument must be, for messages. */
export function wantText(want: Want): string {
  return WANT_TEXT[want];
}

function kind(v: unknown): string {
  if (v === null || v === undefined) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  return `a ${typeof v === 'boolean' ? 'bool' : typeof v}`;
}

function check(fn: string, want: Want, v: unknown, i: number): void {
  const ok =
    want === 'any' ||
    (want === 'number' && typeof v === 'number') ||
    (want === 'string' && typeof v === 'string') ||
    (want === 'list' && Array.isArray(v)) ||
    (want === 'haystack' && (typeof v === 'string' || Array.isArray(v))) ||
    (want === 'sized' && (typeof v === 'string' || (typeof v === 'object' && v !== null)));
  if (!ok) throw new HelperArgError(`'${fn}' needs ${WANT_TEXT[want]}, got ${kind(v)}`, i);
}

/** Numbers given as arguments, or as one list argument: `min(a, b)` and `min([a, b])`. */
function numbers(fn: string, args: readonly unknown[]): number[] {
  const list = args.length === 1 && Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  if (list.length === 0) throw new HelperArgError(`'${fn}' of an empty list`, 0);
  return list.map((v, i) => {
    if (typeof v !== 'number') throw new HelperArgError(`'${fn}' needs numbers, got ${kind(v)}`, i);
    return v;
  });
}

/** Half away from zero, to `digits` decimals: round(2.5) is 3, round(-2.5) is -3, round(1.005, 2) is 1.01. */
function roundHalfAway(x: number, digits: number): number {
  const f = 10 ** digits;
  // The epsilon corrects binary representation (1.005 is stored as 1.00499…), as users expect.
  const r = Math.round(Math.abs(x) * f * (1 + Number.EPSILON)) / f;
  return x < 0 ? -r : r;
}

const numeric = (types: readonly ExprType[]): ExprType =>
  types.some((t) => t === 'any' || t === 'list') ? 'any' : 'scalar';

const HELPERS: readonly ScalarFunction[] = [
  {
    name: 'abs',
    usage: 'abs(number)',
    minArgs: 1,
    maxArgs: 1,
    wants: ['number'],
    result: numeric,
    apply: ([x]) => Math.abs(x as number),
  },
  {
    name: 'round',
    usage: 'round(number, digits?)',
    minArgs: 1,
    maxArgs: 2,
    wants: ['number', 'number'],
    result: numeric,
    apply: ([x, d = 0]) => {
      if (!Number.isInteger(d) || (d as number) < 0 || (d as number) > 15) {
        throw new HelperArgError(`'round' takes a whole number of digits from 0 to 15, got ${String(d)}`, 1);
      }
      return roundHalfAway(x as number, d as number);
    },
  },
  {
    name: 'min',
    usage: 'min(a, b, …) or min(list)',
    minArgs: 1,
    maxArgs: Infinity,
    wants: ['any'],
    result: numeric,
    apply: (args) => Math.min(...numbers('min', args)),
  },
  {
    name: 'max',
    usage: 'max(a, b, …) or max(list)',
    minArgs: 1,
    maxArgs: Infinity,
    wants: ['any'],
    result: numeric,
    apply: (args) => Math.max(...numbers('max', args)),
  },
  {
    name: 'len',
    usage: 'len(string | list | object)',
    minArgs: 1,
    maxArgs: 1,
    wants: ['sized'],
    result: () => 'scalar',
    apply: ([x]) => {
      if (typeof x === 'string' || Array.isArray(x)) return x.length;
      return Object.keys(x as object).length;
    },
  },
  {
    name: 'lower',
    usage: 'lower(string)',
    minArgs: 1,
    maxArgs: 1,
    wants: ['string'],
    result: () => 'string',
    apply: ([s]) => (s as string).toLowerCase(),
  },
  {
    name: 'upper',
    usage: 'upper(string)',
    minArgs: 1,
    maxArgs: 1,
    wants: ['string'],
    result: () => 'string',
    apply: ([s]) => (s as string).toUpperCase(),
  },
  {
    name: 'contains',
    usage: 'contains(string | list, value)',
    minArgs: 2,
    maxArgs: 2,
    wants: ['haystack', 'any'],
    result: () => 'bool',
    apply: ([h, x]) => {
      if (typeof h === 'string') check('contains', 'string', x, 1);
      return listContains(h as string | readonly unknown[], x);
    },
  },
  {
    name: 'starts_with',
    usage: 'starts_with(string, prefix)',
    minArgs: 2,
    maxArgs: 2,
    wants: ['string', 'string'],
    result: () => 'bool',
    apply: ([s, p]) => (s as string).startsWith(p as string),
  },
  {
    name: 'coalesce',
    usage: 'coalesce(a, b, …)',
    minArgs: 1,
    maxArgs: Infinity,
    wants: ['any'],
    result: (types) => {
      const known = types.filter((t) => t !== 'null');
      return known.length > 0 && known.every((t) => t === known[0]) ? known[0]! : 'any';
    },
    apply: (args) => args.find((v) => v !== null && v !== undefined) ?? null,
  },
];

const BY_NAME = new Map(HELPERS.map((h) => [h.name, h]));

/** The helper called `name` (case-insensitive), if there is one. */
export function scalarFunction(name: string): ScalarFunction | undefined {
  return BY_NAME.get(name.toLowerCase());
}

/**
 * Calls a helper: each argument checked against what it `wants` (the last entry repeats), then the
 * helper. Throws {@link HelperArgError} naming the argument at fault.
 */
export function callHelper(fn: ScalarFunction, args: readonly unknown[]): unknown {
  args.forEach((a, i) => check(fn.name, fn.wants[Math.min(i, fn.wants.length - 1)]!, a, i));
  return fn.apply(args);
}

/** The names of the helpers, for suggestions and docs. */
export const SCALAR_FUNCTIONS: readonly string[] = HELPERS.map((h) => h.name);
