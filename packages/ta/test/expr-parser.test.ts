import { describe, expect, it } from 'vitest';
import { TaError } from '../src/errors.js';
import type { Expr } from '../src/expr/ast.js';
import { tokenize } from '../src/expr/lexer.js';
import { MAX_DEPTH, parseExpression } from '../src/expr/parser.js';

/** Compact S-expression rendering, so precedence tests read clearly. */
function sx(e: Expr): string {
  switch (e.kind) {
    case 'number':
      return String(e.value);
    case 'string':
      return JSON.stringify(e.value);
    case 'bool':
      return String(e.value);
    case 'null':
      return 'null';
    case 'ident':
      return e.name;
    case 'list':
      return `[${e.items.map(sx).join(' ')}]`;
    case 'member':
      return `(. ${sx(e.object)} ${e.property})`;
    case 'index':
      return `([] ${sx(e.object)} ${sx(e.index)})`;
    case 'call':
      return `(${e.callee}${e.args.map((a) => ' ' + sx(a)).join('')}${e.named.map((a) => ` ${a.name}=${sx(a.value)}`).join('')})`;
    case 'unary':
      return `(${e.op} ${sx(e.operand)})`;
    case 'binary':
      return `(${e.op} ${sx(e.left)} ${sx(e.right)})`;
  }
}

const p = (s: string): string => sx(parseExpression(s));

function parseError(src: string): TaError {
  try {
    parseExpression(src);
  } catch (e) {
    expect(e).toBeInstanceOf(TaError);
    return e as TaError;
  }
  throw new Error(`expected ${src} to fail`);
}

describe('lexer', () => {
  it('reads numbers, strings with both quotes and escapes, names and keywords', () => {
    const toks = tokenize(`12 1.5 2e3 'a\\'b' "c\\"d\\n" foo and not in true null`);
    expect(toks.map((t) => t.kind)).toEqual([
      'number',
      'number',
      'number',
      'string',
      'string',
      'ident',
      'and',
      'not',
      'in',
      'true',
      'null',
      'eof',
    ]);
    expect(toks.slice(0, 5).map((t) => t.value)).toEqual([12, 1.5, 2000, "a'b", 'c"d\n']);
  });

  it('tracks spans', () => {
    const [a, b] = tokenize('  abc >= 3');
    expect(a.span).toEqual({ start: 2, end: 5 });
    expect(b.span).toEqual({ start: 6, end: 8 });
  });
});

describe('parser: precedence and shapes', () => {
  it.each([
    ['1 + 2 * 3', '(+ 1 (* 2 3))'],
    ['(1 + 2) * 3', '(* (+ 1 2) 3)'],
    ['a.b[c].d', '(. ([] (. a b) c) d)'],
    ['a[0][-1] + 1', '(+ ([] ([] a 0) (- 1)) 1)'],
    ["x NOT IN ('a', 'b')", '(not in x ["a" "b"])'],
    ['NOT a AND b OR c', '(or (and (not a) b) c)'],
    ['(1,)', '[1]'],
    ['10 - 4 - 3', '(- (- 10 4) 3)'],
    ['8 / 4 % 3', '(% (/ 8 4) 3)'],
    ['-x * 2', '(* (- x) 2)'],
    ['--x', '(- (- x))'],
    ['a < b and c >= d or e', '(or (and (< a b) (>= c d)) e)'],
    ['not a == b', '(not (== a b))'],
    ['not a and b', '(and (not a) b)'],
    ['a or b and c', '(or a (and b c))'],
    ['x in [1, 2] or y not in "abc"', '(or (in x [1 2]) (not in y "abc"))'],
    [
      "steps.create_task.status not in ['completed', 'failed']",
      '(not in (. (. steps create_task) status) ["completed" "failed"])',
    ],
    [
      'close > sma(close, 200) and rsi(close, 14) < 30',
      '(and (> close (sma close 200)) (< (rsi close 14) 30))',
    ],
    ['macd(close).signal', '(. (macd close) signal)'],
    ['sma(close, period=20)', '(sma close period=20)'],
    ['obv()', '(obv)'],
    ['[]', '[]'],
    ['[1, [2, 3],]', '[1 [2 3]]'],
    ['true != false', '(!= true false)'],
    ['x == null', '(== x null)'],
    ['a +\n  b', '(+ a b)'],
  ])('%s', (src, want) => {
    expect(p(src)).toBe(want);
  });

  it('gives every node a span covering its source', () => {
    const src = 'sma(close, 20) > 3';
    const e = parseExpression(src);
    expect(e.kind).toBe('binary');
    if (e.kind !== 'binary') return;
    expect(src.slice(e.left.span.start, e.left.span.end)).toBe('sma(close, 20)');
    expect(src.slice(e.opSpan.start, e.opSpan.end)).toBe('>');
  });
});

describe('parser: errors with line:column and a caret', () => {
  it('points at the unexpected token', () => {
    const e = parseError('sma(close,, 20)');
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toBe("expected a value but found ',' at 1:11");
    expect(e.details.line).toBe(1);
    expect(e.details.column).toBe(11);
    expect(e.details.frame).toBe('  sma(close,, 20)\n            ^');
  });

  it('counts lines and columns in multi-line source', () => {
    const e = parseError('close > 1 and\n  open <');
    expect(e.message).toBe('expected a value but found end of expression at 2:9');
    expect(e.details.frame).toBe('    open <\n          ^');
  });

  it.each([
    ['', 'empty expression at 1:1'],
    ['(1 + 2', "expected ')' to close the '(' at 1:1 but found end of expression at 1:7"],
    ["'abc", "unterminated string at 1:1 — close it with '"],
    ['a && b', "unexpected '&&' at 1:3 — use 'and'"],
    ['a || b', "unexpected '||' at 1:3 — use 'or'"],
    ['!a', "unexpected '!' at 1:1 — use 'not'"],
    ['a = 1', "unexpected '=' at 1:3 — use '==' to compare"],
    ['a < b < c', "comparisons cannot be chained ('<') at 1:7 — combine them with 'and'"],
    [
      'sma(period=2, close)',
      'positional argument after a named argument at 1:15 — put positional arguments first',
    ],
    ['sma(close, period=1, period=2)', "argument 'period' given twice at 1:22"],
    ['x.(1)', 'expected a field name after "." but found \'(\' at 1:3'],
    ['x.y(1)', 'only named functions can be called at 1:4'],
    ['1 2', 'unexpected number 2 at 1:3'],
    ['12abc', "malformed number '12a' at 1:1"],
    ['a $ b', "unexpected character '$' at 1:3"],
    ['"\\q"', "unknown escape '\\q' in string at 1:2"],
    ['a ** 2', "unexpected '**' at 1:3 — there is no power operator"],
    ['[1, 2', "expected ',' or ']' in list but found end of expression at 1:6"],
  ])('%j', (src, message) => {
    const e = parseError(src);
    expect(e.code).toBe('E_PARSE');
    expect(e.message).toBe(message);
  });

  it('bounds nesting so hostile input cannot exhaust the stack', () => {
    expect(parseError('('.repeat(10_000) + '1' + ')'.repeat(10_000)).message).toMatch(/nested deeper/);
    expect(
      parseError(
        Array(MAX_DEPTH + 5)
          .fill('1')
          .join(' + '),
      ).message,
    ).toMatch(/nested deeper/);
    expect(() =>
      parseExpression(
        Array(MAX_DEPTH - 5)
          .fill('1')
          .join(' + '),
      ),
    ).not.toThrow();
  });
});
