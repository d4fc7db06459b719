/**
 * Recursive-descent parser. Precedence, lowest first:
 * `or` < `and` < `not` < comparisons and `in` (non-associative) < `+ -` < `* / %` < unary `-` < postfix
 * (calls, member access, indexing). See docs/expressions.md for the grammar.
 */
import type { BinaryOp, CallExpr, Expr, NamedArg, Span } from './ast.js';
import { exprError } from './diagnostics.js';
import { tokenize, type Token, type TokenKind } from './lexer.js';

/** Nesting limit: keeps every recursive stage far from the JS stack limit on hostile input. */
export const MAX_DEPTH = 256;

const COMPARISON: ReadonlySet<TokenKind> = new Set(['==', '!=', '<', '<=', '>', '>=', 'in']);

/** Human-readable description of a token for error messages. */
function describe(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of expression';
    case 'number':
      return `number ${String(t.value)}`;
    case 'string':
      return 'string';
    case 'ident':
      return `name '${String(t.value)}'`;
    default:
      return `'${t.kind}'`;
  }
}

class Parser {
  private pos = 0;
  private depth = 0;

  constructor(
    private readonly source: string,
    private readonly tokens: Token[],
  ) {}

  parse(): Expr {
    if (this.peek().kind === 'eof') {
      throw exprError('E_PARSE', 'empty expression', this.source, this.peek().span);
    }
    const e = this.parseOr();
    const t = this.peek();
    if (t.kind !== 'eof') {
      const hint =
        t.kind === '='
          ? "use '==' to compare"
          : t.kind === '('
            ? 'only named functions can be called'
            : undefined;
      throw exprError('E_PARSE', `unexpected ${describe(t)}`, this.source, t.span, { hint });
    }
    return e;
  }

  private peek(offset = 0): Token {
    return this.tokens[Math.min(this.pos + offset, this.tokens.length - 1)];
  }

  private next(): Token {
    const t = this.tokens[this.pos];
    if (t.kind !== 'eof') this.pos++;
    return t;
  }

  private expect(kind: TokenKind, what: string): Token {
    const t = this.peek();
    if (t.kind !== kind) {
      throw exprError('E_PARSE', `expected ${what} but found ${describe(t)}`, this.source, t.span);
    }
    return this.next();
  }

  private enter(span: Span): void {
    if (++this.depth > MAX_DEPTH) {
      throw exprError('E_PARSE', `expression nested deeper than ${MAX_DEPTH} levels`, this.source, span);
    }
  }

  private binary(op: BinaryOp, left: Expr, right: Expr, opSpan: Span): Expr {
    return { kind: 'binary', op, left, right, opSpan, span: { start: left.span.start, end: right.span.end } };
  }

  private parseOr(): Expr {
    let left = this.parseAnd();
    while (this.peek().kind === 'or') {
      const op = this.next();
      left = this.binary('or', left, this.parseAnd(), op.span);
    }
    return left;
  }

  private parseAnd(): Expr {
    let left = this.parseNot();
    while (this.peek().kind === 'and') {
      const op = this.next();
      left = this.binary('and', left, this.parseNot(), op.span);
    }
    return left;
  }

  private parseNot(): Expr {
    const t = this.peek();
    if (t.kind === 'not') {
      this.next();
      this.enter(t.span);
      const operand = this.parseNot();
      this.depth--;
      return { kind: 'unary', op: 'not', operand, span: { start: t.span.start, end: operand.span.end } };
    }
    return this.parseComparison();
  }

  /** Comparisons do not chain: `a < b < c` is an error rather than a silent surprise. */
  private parseComparison(): Expr {
    const left = this.parseAdditive();
    const op = this.comparisonOp();
    if (op === undefined) return left;
    const expr = this.binary(op.op, left, this.parseAdditive(), op.span);
    const again = this.comparisonOp();
    if (again !== undefined) {
      throw exprError('E_PARSE', `comparisons cannot be chained ('${again.op}')`, this.source, again.span, {
        hint: "combine them with 'and'",
      });
    }
    return expr;
  }

  /** Consumes a comparison operator (including the two-token `not in`) if one is next. */
  private comparisonOp(): { op: BinaryOp; span: Span } | undefined {
    const t = this.peek();
    if (COMPARISON.has(t.kind)) {
      this.next();
      return { op: t.kind as BinaryOp, span: t.span };
    }
    if (t.kind === 'not' && this.peek(1).kind === 'in') {
      this.next();
      const inTok = this.next();
      return { op: 'not in', span: { start: t.span.start, end: inTok.span.end } };
    }
    return undefined;
  }

  private parseAdditive(): Expr {
    let left = this.parseMultiplicative();
    for (;;) {
      const t = this.peek();
      if (t.kind !== '+' && t.kind !== '-') return left;
      this.next();
      left = this.binary(t.kind, left, this.parseMultiplicative(), t.span);
    }
  }

  private parseMultiplicative(): Expr {
    let left = this.parseUnary();
    for (;;) {
      const t = this.peek();
      if (t.kind !== '*' && t.kind !== '/' && t.kind !== '%') return left;
      this.next();
      left = this.binary(t.kind, left, this.parseUnary(), t.span);
    }
  }

  private parseUnary(): Expr {
    const t = this.peek();
    if (t.kind === '-') {
      this.next();
      this.enter(t.span);
      const operand = this.parseUnary();
      this.depth--;
      return { kind: 'unary', op: '-', operand, span: { start: t.span.start, end: operand.span.end } };
    }
    if (t.kind === '+') {
      throw exprError('E_PARSE', "unexpected '+'", this.source, t.span, { hint: 'there is no unary plus' });
    }
    return this.parsePostfix();
  }

  private parsePostfix(): Expr {
    let e = this.parsePrimary();
    for (;;) {
      const t = this.peek();
      if (t.kind === '.') {
        this.next();
        const name = this.expect('ident', 'a field name after "."');
        e = {
          kind: 'member',
          object: e,
          property: String(name.value),
          propertySpan: name.span,
          span: { start: e.span.start, end: name.span.end },
        };
      } else if (t.kind === '[') {
        this.next();
        this.enter(t.span);
        const index = this.parseOr();
        this.depth--;
        const close = this.expect(']', "']' to close the index");
        e = { kind: 'index', object: e, index, span: { start: e.span.start, end: close.span.end } };
      } else if (t.kind === '(') {
        throw exprError('E_PARSE', 'only named functions can be called', this.source, t.span);
      } else {
        return e;
      }
    }
  }

  private parsePrimary(): Expr {
    const t = this.peek();
    switch (t.kind) {
      case 'number':
        this.next();
        return { kind: 'number', value: t.value as number, span: t.span };
      case 'string':
        this.next();
        return { kind: 'string', value: t.value as string, span: t.span };
      case 'true':
      case 'false':
        this.next();
        return { kind: 'bool', value: t.kind === 'true', span: t.span };
      case 'null':
        this.next();
        return { kind: 'null', span: t.span };
      case 'ident':
        this.next();
        if (this.peek().kind === '(') return this.parseCall(t);
        return { kind: 'ident', name: String(t.value), span: t.span };
      case '(': {
        this.next();
        this.enter(t.span);
        const inner = this.parseOr();
        // `('completed', 'failed')`: a parenthesised tuple, as SQL writes a list, is a list.
        const items = [inner];
        while (this.peek().kind === ',') {
          this.next();
          if (this.peek().kind === ')') break;
          items.push(this.parseOr());
        }
        this.depth--;
        const close = this.expect(')', "')' to close the '(' at " + this.where(t.span));
        const span = { start: t.span.start, end: close.span.end };
        if (items.length > 1 || this.tokens[this.pos - 2]?.kind === ',') return { kind: 'list', items, span };
        // Widen the span to the parentheses so carets cover what the user wrote.
        return { ...inner, span } as Expr;
      }
      case '[':
        return this.parseList();
      default:
        throw exprError('E_PARSE', `expected a value but found ${describe(t)}`, this.source, t.span);
    }
  }

  private where(span: Span): string {
    let line = 1;
    let col = 1;
    for (let i = 0; i < span.start; i++) {
      if (this.source.charCodeAt(i) === 10) {
        line++;
        col = 1;
      } else col++;
    }
    return `${line}:${col}`;
  }

  private parseList(): Expr {
    const open = this.next();
    this.enter(open.span);
    const items: Expr[] = [];
    while (this.peek().kind !== ']') {
      items.push(this.parseOr());
      if (this.peek().kind !== ',') break;
      this.next();
    }
    const close = this.expect(']', "',' or ']' in list");
    this.depth--;
    return { kind: 'list', items, span: { start: open.span.start, end: close.span.end } };
  }

  private parseCall(name: Token): CallExpr {
    const open = this.next();
    this.enter(open.span);
    const args: Expr[] = [];
    const named: NamedArg[] = [];
    while (this.peek().kind !== ')') {
      if (this.peek().kind === 'ident' && this.peek(1).kind === '=') {
        const key = this.next();
        this.next();
        if (named.some((a) => a.name === key.value)) {
          throw exprError('E_PARSE', `argument '${String(key.value)}' given twice`, this.source, key.span);
        }
        named.push({ name: String(key.value), nameSpan: key.span, value: this.parseOr() });
      } else {
        const arg = this.parseOr();
        if (named.length > 0) {
          throw exprError('E_PARSE', 'positional argument after a named argument', this.source, arg.span, {
            hint: 'put positional arguments first',
          });
        }
        args.push(arg);
      }
      if (this.peek().kind !== ',') break;
      this.next();
    }
    const close = this.expect(')', "',' or ')' in the call of '" + String(name.value) + "'");
    this.depth--;
    return {
      kind: 'call',
      callee: String(name.value),
      calleeSpan: name.span,
      args,
      named,
      span: { start: name.span.start, end: close.span.end },
    };
  }
}

/**
 * Parses expression source into a syntax tree.
 *
 * @throws TaError `E_PARSE` with `line:column` in the message and a caret frame in `details.frame`.
 */
export function parseExpression(source: string): Expr {
  const ast = new Parser(source, tokenize(source)).parse();
  checkHeight(source, ast);
  return ast;
}

/** Children of a node, for generic walks. */
export function childrenOf(e: Expr): readonly Expr[] {
  switch (e.kind) {
    case 'list':
      return e.items;
    case 'member':
      return [e.object];
    case 'index':
      return [e.object, e.index];
    case 'call':
      return [...e.args, ...e.named.map((a) => a.value)];
    case 'unary':
      return [e.operand];
    case 'binary':
      return [e.left, e.right];
    default:
      return [];
  }
}

/** Operator chains like `a + a + ...` nest without recursion in the parser; bound them here, iteratively. */
function checkHeight(source: string, root: Expr): void {
  const stack: [Expr, number][] = [[root, 1]];
  while (stack.length > 0) {
    const [e, h] = stack.pop()!;
    if (h > MAX_DEPTH) {
      throw exprError('E_PARSE', `expression nested deeper than ${MAX_DEPTH} levels`, source, e.span, {
        hint: 'split it into smaller expressions',
      });
    }
    for (const c of childrenOf(e)) stack.push([c, h + 1]);
  }
}
