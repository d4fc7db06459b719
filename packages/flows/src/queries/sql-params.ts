// A small SQL scanner: finds `:name` parameters in code (not in string literals, quoted identifiers,
// comments, `::` casts or PostgreSQL dollar-quoted strings) and rewrites them to the driver's
// positional placeholders. It also reports the facts the service checks at load: the first keyword,
// a top-level LIMIT, the number of statements, and placeholders written by hand.

/** The SQL dialect of a datasource: SQLite, or PostgreSQL (a server or Baton's own store). */
export type SqlDialect = 'sqlite' | 'postgres';

/** One `:name` in the SQL, with its character span. */
export interface ParamRef {
  readonly name: string;
  readonly start: number;
  readonly end: number;
  /**
   * Set when the param is the whole list of `IN (:name)` or `NOT IN (:name)`: the span of that
   * expression, from IN (or NOT) to the closing parenthesis.
   */
  readonly inList?: { readonly negated: boolean; readonly start: number; readonly end: number };
}

/** What the scanner found in one SQL text. */
export interface SqlScan {
  readonly sql: string;
  readonly dialect: SqlDialect;
  /** Every `:name`, in order of appearance (a name used twice appears twice). */
  readonly params: readonly ParamRef[];
  /** The distinct param names, in order of first appearance. */
  readonly names: readonly string[];
  /** The first keyword, upper-case (`SELECT`, `WITH`, `DELETE` …). */
  readonly firstKeyword: string | undefined;
  /** True when LIMIT (or FETCH) appears outside parentheses: the statement bounds its own result. */
  readonly hasTopLevelLimit: boolean;
  /** Non-empty statements separated by `;`. */
  readonly statementCount: number;
  /** Placeholders written by hand (`?`, `@x`, `$x` in SQLite, `$1` in PostgreSQL), which the service does not bind. */
  readonly positional: readonly string[];
  /** Params that are a LIMIT's or an OFFSET's value: a negative or null one would lift the bound (SQLite). */
  readonly boundParams: readonly string[];
}

interface Token {
  kind: 'word' | 'param' | 'punct' | 'literal';
  /** Upper-cased for words; the name for params. */
  text: string;
  start: number;
  end: number;
  depth: number;
}

const isIdentStart = (c: string) => /[A-Za-z_]/.test(c) || c > '\x7f';
const isIdentChar = (c: string) => /[A-Za-z0-9_$]/.test(c) || c > '\x7f';

/** Scans `sql` written for `dialect`. Never throws: unterminated literals run to the end, and the database reports them. */
export function scanSql(sql: string, dialect: SqlDialect): SqlScan {
  const tokens = tokenize(sql, dialect);
  const params: ParamRef[] = [];
  const positional: string[] = [];
  const boundParams: string[] = [];
  let statementCount = 0;
  let statementHasTokens = false;
  let hasTopLevelLimit = false;
  tokens.forEach((t, i) => {
    if (t.kind === 'punct' && t.text === ';' && t.depth === 0) {
      if (statementHasTokens) statementCount++;
      statementHasTokens = false;
      return;
    }
    statementHasTokens = true;
    if (t.kind === 'word' && t.depth === 0 && (t.text === 'LIMIT' || t.text === 'FETCH'))
      hasTopLevelLimit = true;
    // `?` is a jsonb operator in PostgreSQL, and `$1` is no placeholder in SQLite.
    if (t.kind === 'punct' && (dialect === 'sqlite' ? t.text === '?' : /^\$\d+$/.test(t.text))) {
      positional.push(t.text);
    }
    // SQLite also takes `@name` and `$name` as placeholders.
    const after = tokens[i + 1];
    if (dialect === 'sqlite' && t.kind === 'punct' && (t.text === '@' || t.text === '$')) {
      if (after?.kind === 'word' && after.start === t.end)
        positional.push(`${t.text}${sql.slice(after.start, after.end)}`);
    }
    if (t.kind === 'param') {
      params.push({ name: t.text, start: t.start, end: t.end, inList: inListSpan(tokens, i) });
      const before = tokens[i - 1];
      if (before?.kind === 'word' && (before.text === 'LIMIT' || before.text === 'OFFSET'))
        boundParams.push(t.text);
    }
  });
  if (statementHasTokens) statementCount++;
  return {
    sql,
    dialect,
    params,
    names: [...new Set(params.map((p) => p.name))],
    firstKeyword: tokens.find((t) => t.kind === 'word')?.text,
    hasTopLevelLimit,
    statementCount,
    positional,
    boundParams,
  };
}

/** The span of `[NOT] IN ( :x )` around the param token at `i`, if it is one. */
function inListSpan(tokens: readonly Token[], i: number): ParamRef['inList'] {
  const open = tokens[i - 1];
  const inWord = tokens[i - 2];
  const close = tokens[i + 1];
  if (open?.text !== '(' || close?.text !== ')' || inWord?.kind !== 'word' || inWord.text !== 'IN')
    return undefined;
  const not = tokens[i - 3];
  const negated = not?.kind === 'word' && not.text === 'NOT';
  return { negated, start: negated ? not.start : inWord.start, end: close.end };
}

function tokenize(sql: string, dialect: SqlDialect): Token[] {
  const tokens: Token[] = [];
  const n = sql.length;
  let depth = 0;
  let i = 0;
  const push = (kind: Token['kind'], text: string, start: number) =>
    tokens.push({ kind, text, start, end: i, depth });
  /** Skips a quoted run closed by `quote`, where a doubled quote stands for itself. */
  const skipQuoted = (quote: string, backslashEscapes = false) => {
    i++;
    while (i < n) {
      const c = sql[i];
      if (backslashEscapes && c === '\\') i += 2;
      else if (c === quote && sql[i + 1] === quote) i += 2;
      else if (c === quote) {
        i++;
        return;
      } else i++;
    }
  };
  while (i < n) {
    const c = sql[i];
    const next = sql[i + 1];
    const start = i;
    if (/\s/.test(c)) {
      i++;
    } else if (c === '-' && next === '-') {
      while (i < n && sql[i] !== '\n') i++;
    } else if (c === '/' && next === '*') {
      // PostgreSQL nests block comments; SQLite ends at the first */.
      let level = 0;
      while (i < n) {
        if (sql[i] === '/' && sql[i + 1] === '*' && (level === 0 || dialect === 'postgres')) {
          level++;
          i += 2;
        } else if (sql[i] === '*' && sql[i + 1] === '/') {
          level--;
          i += 2;
          if (level === 0) break;
        } else i++;
      }
    } else if (c === "'") {
      const prev = tokens[tokens.length - 1];
      // E'…' (PostgreSQL) lets a backslash escape the quote.
      const escaped =
        dialect === 'postgres' && prev?.kind === 'word' && prev.text === 'E' && prev.end === start;
      skipQuoted("'", escaped);
      push('literal', '', start);
    } else if (c === '"' || (dialect === 'sqlite' && c === '`')) {
      skipQuoted(c);
      push('literal', '', start);
    } else if (dialect === 'sqlite' && c === '[') {
      const close = sql.indexOf(']', i);
      i = close < 0 ? n : close + 1;
      push('literal', '', start);
    } else if (dialect === 'postgres' && c === '$') {
      const tag = /^\$(?:[A-Za-z_][A-Za-z0-9_]*)?\$/.exec(sql.slice(i, i + 64));
      if (tag) {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close < 0 ? n : close + tag[0].length;
        push('literal', '', start);
      } else {
        i++;
        while (i < n && /[0-9]/.test(sql[i])) i++;
        push('punct', sql.slice(start, i), start);
      }
    } else if (c === ':' && next === ':') {
      i += 2; // a cast: the type name after it is a word, not a param
      push('punct', '::', start);
    } else if (
      c === ':' &&
      next !== undefined &&
      isIdentStart(next) &&
      !(start > 0 && isIdentChar(sql[start - 1]))
    ) {
      i++;
      while (i < n && isIdentChar(sql[i]) && sql[i] !== '$') i++;
      push('param', sql.slice(start + 1, i), start);
    } else if (isIdentStart(c)) {
      while (i < n && isIdentChar(sql[i])) i++;
      push('word', sql.slice(start, i).toUpperCase(), start);
    } else if (/[0-9]/.test(c)) {
      while (i < n && /[0-9A-Za-z_.]/.test(sql[i])) i++;
      push('literal', '', start);
    } else {
      i++;
      if (c === ')') depth = Math.max(0, depth - 1);
      push('punct', c, start);
      if (c === '(') depth++;
    }
  }
  return tokens;
}

/** SQL with positional placeholders, and the param whose value each placeholder (group) takes. */
export interface CompiledSql {
  readonly text: string;
  /**
   * The param names in placeholder order. SQLite: one entry per occurrence (a list's entry covers
   * its group of `?`). PostgreSQL: one entry per distinct name, entry k being `$k+1`.
   */
  readonly slots: readonly string[];
}

/**
 * Rewrites the params of `scan` into positional placeholders. `lists` maps each list param to its
 * number of values (PostgreSQL only needs to know that it is a list).
 *
 * - SQLite: each `:name` becomes `?`; a list param in `IN (:name)` becomes as many `?` as the list has
 *   values (`listLengths`), so `IN (?, ?, ?)`; an empty list gives `IN ()`, which SQLite allows
 *   (false; NOT IN () is true).
 * - PostgreSQL: each distinct name becomes `$n` (a name used twice reuses its number). A list is bound
 *   as one array parameter, and `IN (:name)` becomes `= ANY($n)`, `NOT IN (:name)` becomes
 *   `<> ALL($n)`, which mean the same for a list and keep one prepared statement for any length.
 */
export function compileSql(scan: SqlScan, lists: ReadonlyMap<string, number> = new Map()): CompiledSql {
  const { sql, dialect } = scan;
  const slots: string[] = [];
  let text = '';
  let from = 0;
  for (const p of scan.params) {
    const length = lists.get(p.name);
    if (dialect === 'sqlite') {
      text += sql.slice(from, p.start) + Array.from({ length: length ?? 1 }, () => '?').join(', ');
      slots.push(p.name);
      from = p.end;
    } else {
      let n = slots.indexOf(p.name) + 1;
      if (n === 0) n = slots.push(p.name);
      if (length !== undefined && p.inList) {
        text += sql.slice(from, p.inList.start) + (p.inList.negated ? `<> ALL($${n})` : `= ANY($${n})`);
        from = p.inList.end;
      } else {
        text += sql.slice(from, p.start) + `$${n}`;
        from = p.end;
      }
    }
  }
  return { text: text + sql.slice(from), slots };
}
