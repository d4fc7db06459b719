/**
 * Lexer: turns expression source into tokens with character spans. It rejects
 * anything outside the language up front (e.g. `&&`, `;`, backticks) with a
 * positioned E_PARSE error, so the parser only sees well-formed tokens.
 */
import type { Span } from './ast.js';
import { exprError } from './diagnostics.js';

/** Token kinds. Keywords are lexed as their own kinds so identifiers never collide with them. */
export type TokenKind =
  | 'number'
  | 'string'
  | 'ident'
  | 'and'
  | 'or'
  | 'not'
  | 'in'
  | 'true'
  | 'false'
  | 'null'
  | '+'
  | '-'
  | '*'
  | '/'
  | '%'
  | '=='
  | '!='
  | '<'
  | '<='
  | '>'
  | '>='
  | '='
  | '('
  | ')'
  | '['
  | ']'
  | ','
  | '.'
  | 'eof';

/** One token. `value` holds the decoded string, the number, or the identifier name. */
export interface Token {
  readonly kind: TokenKind;
  readonly span: Span;
  readonly value?: string | number;
}

const KEYWORDS: ReadonlySet<string> = new Set(['and', 'or', 'not', 'in', 'true', 'false', 'null']);

/** Operators that other languages use, mapped to the spelling this language wants. */
const FOREIGN: Readonly<Record<string, string>> = {
  '&&': "use 'and'",
  '||': "use 'or'",
  '===': "use '=='",
  '!==': "use '!='",
  '**': 'there is no power operator',
};

const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isIdentStart = (c: number): boolean => (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isIdentPart = (c: number): boolean => isIdentStart(c) || isDigit(c);

/** Splits `source` into tokens, ending with one `eof` token. Throws E_PARSE on bad input. */
export function tokenize(source: string): Token[] {
  const tokens: Token[] = [];
  const n = source.length;
  let i = 0;
  while (i < n) {
    const c = source.charCodeAt(i);
    if (c === 32 || c === 9 || c === 10 || c === 13) {
      i++;
      continue;
    }
    const start = i;
    if (isDigit(c)) {
      while (i < n && isDigit(source.charCodeAt(i))) i++;
      if (source[i] === '.' && isDigit(source.charCodeAt(i + 1))) {
        i++;
        while (i < n && isDigit(source.charCodeAt(i))) i++;
      }
      if (source[i] === 'e' || source[i] === 'E') {
        let j = i + 1;
        if (source[j] === '+' || source[j] === '-') j++;
        if (!isDigit(source.charCodeAt(j))) {
          throw exprError('E_PARSE', 'malformed number exponent', source, { start, end: j });
        }
        i = j;
        while (i < n && isDigit(source.charCodeAt(i))) i++;
      }
      if (i < n && isIdentStart(source.charCodeAt(i))) {
        throw exprError('E_PARSE', `malformed number '${source.slice(start, i + 1)}'`, source, {
          start,
          end: i + 1,
        });
      }
      tokens.push({ kind: 'number', span: { start, end: i }, value: Number(source.slice(start, i)) });
      continue;
    }
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(source.charCodeAt(i))) i++;
      const word = source.slice(start, i);
      // Keywords in any case (`NOT IN`, `AND`), as SQL-minded YAML writes them; names keep their case.
      const lower = word.toLowerCase();
      const kind = KEYWORDS.has(lower) ? (lower as TokenKind) : 'ident';
      tokens.push({ kind, span: { start, end: i }, value: word });
      continue;
    }
    if (c === 39 || c === 34) {
      i = lexString(source, i, tokens);
      continue;
    }
    const three = source.slice(i, i + 3);
    const two = source.slice(i, i + 2);
    const foreign = FOREIGN[three] !== undefined ? three : FOREIGN[two] !== undefined ? two : undefined;
    if (foreign !== undefined) {
      throw exprError(
        'E_PARSE',
        `unexpected '${foreign}'`,
        source,
        { start, end: i + foreign.length },
        {
          hint: FOREIGN[foreign],
        },
      );
    }
    if (two === '==' || two === '!=' || two === '<=' || two === '>=') {
      tokens.push({ kind: two, span: { start, end: i + 2 } });
      i += 2;
      continue;
    }
    const one = source[i];
    if ('+-*/%<>=()[],.'.includes(one)) {
      tokens.push({ kind: one as TokenKind, span: { start, end: i + 1 } });
      i++;
      continue;
    }
    if (one === '!') {
      throw exprError('E_PARSE', "unexpected '!'", source, { start, end: i + 1 }, { hint: "use 'not'" });
    }
    throw exprError('E_PARSE', `unexpected character '${one}'`, source, { start, end: i + 1 });
  }
  tokens.push({ kind: 'eof', span: { start: n, end: n } });
  return tokens;
}

const ESCAPES: Readonly<Record<string, string>> = {
  n: '\n',
  t: '\t',
  r: '\r',
  '\\': '\\',
  "'": "'",
  '"': '"',
  '0': '\0',
};

/** Lexes one quoted string starting at `i`; returns the index after the closing quote. */
function lexString(source: string, i: number, tokens: Token[]): number {
  const start = i;
  const quote = source[i];
  let out = '';
  i++;
  while (i < source.length) {
    const ch = source[i];
    if (ch === quote) {
      tokens.push({ kind: 'string', span: { start, end: i + 1 }, value: out });
      return i + 1;
    }
    if (ch === '\n') break;
    if (ch === '\\') {
      const e = source[i + 1];
      if (e === 'u') {
        const hex = source.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) {
          throw exprError('E_PARSE', 'malformed \\u escape (want 4 hex digits)', source, {
            start: i,
            end: i + 2,
          });
        }
        out += String.fromCharCode(parseInt(hex, 16));
        i += 6;
        continue;
      }
      const decoded = e === undefined ? undefined : ESCAPES[e];
      if (decoded === undefined) {
        throw exprError('E_PARSE', `unknown escape '\\${e ?? ''}' in string`, source, {
          start: i,
          end: i + 2,
        });
      }
      out += decoded;
      i += 2;
      continue;
    }
    out += ch;
    i++;
  }
  throw exprError(
    'E_PARSE',
    'unterminated string',
    source,
    { start, end: start + 1 },
    {
      hint: `close it with ${quote}`,
    },
  );
}
