// Templates of YAML workflows: `${…}` holds an expression of @baton/ta's language. A value that is
// exactly one `${…}` keeps the expression's type; text with `${…}` parts becomes a string; `$${` is a
// literal `${`. Conditions may be written with or without the wrappers. Every error carries the
// offset of the failing character in the string, so that it can be shown at file:line:col.
import { compileExpression, TaError, type CompiledExpression, type Expr } from '@baton/ta';

/** A template or condition that does not compile, at `offset` in its string. */
export class TemplateError extends Error {
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** One `${…}`: its compiled expression, and the offset of the expression's text in the string. */
export interface Hole {
  readonly expr: CompiledExpression;
  readonly offset: number;
}

/** A compiled value: constants stay as they are, strings with `${…}` are evaluated on each render. */
export type Template =
  | { readonly kind: 'const'; readonly value: unknown }
  | { readonly kind: 'expr'; readonly hole: Hole }
  | { readonly kind: 'text'; readonly parts: readonly (string | Hole)[] }
  | { readonly kind: 'list'; readonly items: readonly Template[] }
  | { readonly kind: 'map'; readonly entries: readonly (readonly [string, Template])[] };

/** An expression's text in a string, with where it starts. */
interface Span {
  readonly start: number;
  readonly end: number;
}

/**
 * Splits `text` into literal parts and the spans of its `${…}` expressions. The closing `}` is the
 * first one outside a quoted string (the language has no braces).
 */
function scan(text: string): (string | Span)[] {
  const parts: (string | Span)[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('$${', i)) {
      literal += '${';
      i += 3;
      continue;
    }
    if (!text.startsWith('${', i)) {
      literal += text[i++];
      continue;
    }
    let j = i + 2;
    let quote: string | undefined;
    for (; j < text.length; j++) {
      const c = text[j];
      if (quote) {
        if (c === '\\') j++;
        else if (c === quote) quote = undefined;
      } else if (c === "'" || c === '"') quote = c;
      else if (c === '}') break;
    }
    if (j >= text.length) {
      throw new TemplateError("unterminated '${': close the expression with '}'", i);
    }
    if (literal) parts.push(literal);
    literal = '';
    parts.push({ start: i + 2, end: j });
    i = j + 1;
  }
  if (literal) parts.push(literal);
  return parts;
}

/** Compiles the expression `text.slice(start, end)`; its errors point into `text`. */
function compileAt(text: string, start: number, end: number): CompiledExpression {
  const source = text.slice(start, end);
  try {
    return compileExpression(source);
  } catch (err) {
    if (!(err instanceof TaError)) throw err;
    const at = typeof err.details?.start === 'number' ? err.details.start : 0;
    // The language's own ` at line:col` is replaced by the file's position.
    throw new TemplateError(err.message.replace(/ at \d+:\d+( — |$)/, '$1'), start + at);
  }
}

/** Compiles a string template. */
export function compileText(text: string): Template {
  const parts = scan(text);
  if (parts.length === 1 && typeof parts[0] !== 'string') {
    const { start, end } = parts[0]!;
    return { kind: 'expr', hole: { expr: compileAt(text, start, end), offset: start } };
  }
  if (parts.every((p) => typeof p === 'string')) return { kind: 'const', value: parts.join('') };
  return {
    kind: 'text',
    parts: parts.map((p) =>
      typeof p === 'string' ? p : { expr: compileAt(text, p.start, p.end), offset: p.start },
    ),
  };
}

/** Where a string of a value sits: the path segments below the value's own path. */
export type SubPath = readonly (string | number)[];

/** A template error in a nested value: the string's sub-path and the offset in it. */
export class NestedTemplateError extends TemplateError {
  constructor(
    err: TemplateError,
    readonly subPath: SubPath,
  ) {
    super(err.message, err.offset);
  }
}

/** Compiles every string in a JSON-like value (`input:`, `data:`, `params:` of a step). */
export function compileValue(value: unknown, subPath: SubPath = []): Template {
  if (typeof value === 'string') {
    try {
      return compileText(value);
    } catch (err) {
      if (err instanceof TemplateError && !(err instanceof NestedTemplateError)) {
        throw new NestedTemplateError(err, subPath);
      }
      throw err;
    }
  }
  if (Array.isArray(value)) {
    return { kind: 'list', items: value.map((v, i) => compileValue(v, [...subPath, i])) };
  }
  if (value !== null && typeof value === 'object') {
    return {
      kind: 'map',
      entries: Object.entries(value).map(([k, v]) => [k, compileValue(v, [...subPath, k])] as const),
    };
  }
  return { kind: 'const', value };
}

/**
 * Compiles a condition. `${a} NOT IN ('x', 'y')` means `a not in ['x', 'y']`: each wrapper becomes
 * parentheses of the same width, so offsets into the string stay exact.
 */
export function compileCondition(text: string): CompiledExpression {
  const parts = scan(text);
  let source = '';
  let pos = 0;
  for (const p of parts) {
    if (typeof p === 'string') continue;
    source += text.slice(pos, p.start - 2) + ' (' + text.slice(p.start, p.end) + ')';
    pos = p.end + 1;
  }
  source += text.slice(pos);
  return compileAt(source, 0, source.length);
}

/** Evaluation failed at run time: the message, and the expression's offset in its string. */
export class RenderError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
    this.name = 'RenderError';
  }
}

function evaluate(expr: CompiledExpression, scope: object): unknown {
  try {
    return expr.evaluate({ context: scope as Readonly<Record<string, unknown>>, nullSafe: true });
  } catch (err) {
    if (!(err instanceof TaError)) throw err;
    throw new RenderError(`\${${expr.source}}: ${err.message}`, err.code);
  }
}

/** Text of a value inside a string: strings as they are, null as nothing, the rest as JSON. */
function asText(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === null || v === undefined) return '';
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** Renders a template against a scope: the value it stands for, now. */
export function render(t: Template, scope: object): unknown {
  switch (t.kind) {
    case 'const':
      return t.value;
    case 'expr':
      return evaluate(t.hole.expr, scope);
    case 'text':
      return t.parts.map((p) => (typeof p === 'string' ? p : asText(evaluate(p.expr, scope)))).join('');
    case 'list':
      return t.items.map((i) => render(i, scope));
    case 'map':
      return Object.fromEntries(t.entries.map(([k, v]) => [k, render(v, scope)]));
  }
}

/**
 * Evaluates a condition: true or false; `null` (a missing value, a key the configuration does not
 * set) counts as false. Anything else is an error.
 */
export function test(expr: CompiledExpression, scope: object): boolean {
  const v = evaluate(expr, scope);
  if (v === null || typeof v === 'boolean') return v === true;
  throw new RenderError(
    `condition '${expr.source.trim()}' gave ${Array.isArray(v) ? 'a list' : typeof v}, not true or false`,
    'E_TYPE',
  );
}

/** Every expression of a template, with its offset in its string and that string's sub-path. */
export function holesOf(t: Template, subPath: SubPath = []): { hole: Hole; subPath: SubPath }[] {
  switch (t.kind) {
    case 'const':
      return [];
    case 'expr':
      return [{ hole: t.hole, subPath }];
    case 'text':
      return t.parts.filter((p): p is Hole => typeof p !== 'string').map((hole) => ({ hole, subPath }));
    case 'list':
      return t.items.flatMap((item, i) => holesOf(item, [...subPath, i]));
    case 'map':
      return t.entries.flatMap(([k, v]) => holesOf(v, [...subPath, k]));
  }
}

/** A name the expression reads at its top level, with the key it reads under it, and its offset. */
export interface Reference {
  readonly root: string;
  /** The literal key read under the root: the step id of `steps.x`, the kind of `config['sla_rules']`. */
  readonly key?: string;
  readonly start: number;
}

/** The top-level names and step ids an expression reads (offsets within the expression). */
export function referencesOf(ast: Expr): Reference[] {
  const out: Reference[] = [];
  const visit = (e: Expr): void => {
    switch (e.kind) {
      case 'ident':
        out.push({ root: e.name, start: e.span.start });
        return;
      case 'member':
        if (e.object.kind === 'ident') {
          out.push({
            root: e.object.name,
            key: e.property,
            start: e.object.name === 'steps' ? e.propertySpan.start : e.span.start,
          });
          return;
        }
        visit(e.object);
        return;
      case 'index':
        if (e.object.kind === 'ident' && e.index.kind === 'string') {
          const start = e.object.name === 'steps' ? e.index.span.start : e.span.start;
          out.push({ root: e.object.name, key: e.index.value, start });
          return;
        }
        visit(e.object);
        visit(e.index);
        return;
      case 'list':
        e.items.forEach(visit);
        return;
      case 'call':
        e.args.forEach(visit);
        e.named.forEach((a) => visit(a.value));
        return;
      case 'unary':
        visit(e.operand);
        return;
      case 'binary':
        visit(e.left);
        visit(e.right);
        return;
      default:
        return;
    }
  };
  visit(ast);
  return out;
}
