/**
 * Positioned errors of the expression language. Every error is a {@link TaError}
 * whose message names `line:column`, and whose details carry the position and a
 * caret frame, so the CLI and YAML loaders can show exactly where things went wrong.
 */
import { TaError, type TaErrorCode } from '../errors.js';
import type { Span } from './ast.js';

/**
 * Codes used by the expression language for conditions {@link TaErrorCode} has no
 * dedicated code for yet. Kept in one place so a future `E_ARITY` is a one-line change.
 */
export const EXPR_CODES = {
  /** Wrong number of arguments, duplicate or unknown named argument. */
  arity: 'E_PARAM_INVALID',
} as const satisfies Record<string, TaErrorCode>;

/** 1-based line and column of a character offset. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
}

/** Line and column (1-based) of `offset` in `source`. */
export function positionOf(source: string, offset: number): SourcePosition {
  let line = 1;
  let lineStart = 0;
  const end = Math.min(offset, source.length);
  for (let i = 0; i < end; i++) {
    if (source.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return { line, column: end - lineStart + 1 };
}

/**
 * The source line containing `span.start` and a caret line under the span, e.g.
 * ```
 *   sma(close,, 20)
 *             ^
 * ```
 */
export function caretFrame(source: string, span: Span): string {
  const start = span.start === 0 ? 0 : source.lastIndexOf('\n', span.start - 1) + 1;
  let lineEnd = source.indexOf('\n', span.start);
  if (lineEnd < 0) lineEnd = source.length;
  const text = source.slice(start, lineEnd);
  const col = span.start - start;
  const width = Math.max(1, Math.min(span.end, lineEnd) - span.start);
  return `  ${text}\n  ${' '.repeat(col)}${'^'.repeat(width)}`;
}

/**
 * Builds a positioned {@link TaError}. The message reads
 * `<what> at <line>:<col>` plus ` — <hint>` when a hint is given; `details`
 * carries `line`, `column`, `start`, `end`, `frame` and `expression`.
 */
export function exprError(
  code: TaErrorCode,
  what: string,
  source: string,
  span: Span,
  options: { hint?: string; cause?: unknown; details?: Record<string, unknown> } = {},
): TaError {
  const { line, column } = positionOf(source, span.start);
  const hint = options.hint ? ` — ${options.hint}` : '';
  return new TaError(code, `${what} at ${line}:${column}${hint}`, {
    cause: options.cause,
    details: {
      ...options.details,
      line,
      column,
      start: span.start,
      end: span.end,
      frame: caretFrame(source, span),
      expression: source,
    },
  });
}

/** Edit distance (Levenshtein), used to suggest the nearest known name. */
function distance(a: string, b: string): number {
  const prev = new Array<number>(b.length + 1);
  for (let j = 0; j <= b.length; j++) prev[j] = j;
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0];
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j];
      prev[j] = Math.min(prev[j] + 1, prev[j - 1] + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length];
}

function commonPrefix(a: string, b: string): number {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/**
 * The candidate closest to `name`, if it is close enough to be a plausible typo.
 * Ties go to the longer common prefix, then to the earlier candidate (callers list
 * canonical names before aliases).
 */
export function nearestName(name: string, candidates: Iterable<string>): string | undefined {
  const lower = name.toLowerCase();
  let best: string | undefined;
  let bestD = Infinity;
  let bestP = -1;
  for (const c of candidates) {
    const cl = c.toLowerCase();
    const d = distance(lower, cl);
    const p = commonPrefix(lower, cl);
    if (d < bestD || (d === bestD && p > bestP)) {
      bestD = d;
      bestP = p;
      best = c;
    }
  }
  const limit = Math.max(1, Math.floor(name.length / 3));
  return bestD <= limit || (best !== undefined && best.toLowerCase().startsWith(lower)) ? best : undefined;
}

/** `did you mean 'x'?` for the nearest candidate, or undefined. */
export function didYouMean(name: string, candidates: Iterable<string>): string | undefined {
  const n = nearestName(name, candidates);
  return n === undefined ? undefined : `did you mean '${n}'?`;
}
