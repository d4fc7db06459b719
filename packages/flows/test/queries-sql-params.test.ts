// The SQL scanner: which `:name` are parameters, and how they become positional placeholders.
import { describe, it, expect } from 'vitest';
import { compileSql, scanSql } from '../src/queries/sql-params.js';

const names = (sql: string, dialect: 'sqlite' | 'postgres' = 'sqlite') =>
  scanSql(sql, dialect).params.map((p) => p.name);

describe('scanSql: what is a parameter', () => {
  it('finds params in code, in order, repeats included', () => {
    expect(names('SELECT * FROM t WHERE a = :a AND (b > :b OR b < :a)')).toEqual(['a', 'b', 'a']);
    expect(scanSql('SELECT :a, :b, :a', 'sqlite').names).toEqual(['a', 'b']);
  });

  it('ignores string literals, with doubled quotes inside', () => {
    expect(names("SELECT ':no', 'it''s :no either', :yes")).toEqual(['yes']);
  });

  it('ignores quoted identifiers (double quotes; in SQLite also backticks and brackets)', () => {
    expect(names('SELECT "a:no", `b:no`, [c:no], :yes FROM t')).toEqual(['yes']);
    expect(names('SELECT "a "":no", :yes', 'postgres')).toEqual(['yes']);
  });

  it('ignores line and block comments, nested block comments in PostgreSQL', () => {
    expect(names('SELECT 1 -- :no\n, :yes /* :no */')).toEqual(['yes']);
    expect(names('SELECT /* a /* :no */ :still_comment */ :yes', 'postgres')).toEqual(['yes']);
    // SQLite ends a block comment at the first */.
    expect(names('SELECT /* a /* :no */ :yes', 'sqlite')).toEqual(['yes']);
  });

  it('does not take a :: cast or its type for a param', () => {
    expect(names('SELECT :x::int, y::text, z :: date', 'postgres')).toEqual(['x']);
  });

  it('ignores PostgreSQL dollar-quoted strings, tagged or not', () => {
    expect(names('SELECT $$ :no $$, $fn$ it is :no $fn$, :yes', 'postgres')).toEqual(['yes']);
  });

  it("reads E'…' strings with backslash escapes in PostgreSQL", () => {
    expect(names("SELECT E'a\\' :no', :yes", 'postgres')).toEqual(['yes']);
  });

  it('does not take a colon inside a word for a param (array slices, time literals)', () => {
    expect(names('SELECT arr[lo:hi], :yes FROM t', 'postgres')).toEqual(['yes']);
  });

  it('reports hand-written placeholders per dialect', () => {
    expect(scanSql('SELECT * FROM t WHERE a = ?', 'sqlite').positional).toEqual(['?']);
    expect(scanSql('SELECT * FROM t WHERE a = $1', 'postgres').positional).toEqual(['$1']);
    // `?` is a jsonb operator in PostgreSQL.
    expect(scanSql("SELECT data ? 'key' FROM t", 'postgres').positional).toEqual([]);
  });
});

describe('scanSql: statement facts', () => {
  it('knows the first keyword', () => {
    expect(scanSql('  -- hi\n with x as (select 1) select * from x', 'sqlite').firstKeyword).toBe('WITH');
    expect(scanSql('DELETE FROM t', 'postgres').firstKeyword).toBe('DELETE');
  });

  it('sees a LIMIT only outside parentheses', () => {
    expect(scanSql('SELECT * FROM t LIMIT :n', 'sqlite').hasTopLevelLimit).toBe(true);
    expect(scanSql('SELECT * FROM (SELECT * FROM t LIMIT 5) s', 'sqlite').hasTopLevelLimit).toBe(false);
    expect(scanSql("SELECT 'LIMIT 5' FROM t -- LIMIT 5", 'sqlite').hasTopLevelLimit).toBe(false);
    expect(scanSql('SELECT * FROM t FETCH FIRST 3 ROWS ONLY', 'postgres').hasTopLevelLimit).toBe(true);
  });

  it('counts statements, not semicolons in literals or a trailing one', () => {
    expect(scanSql("SELECT ';' ;", 'sqlite').statementCount).toBe(1);
    expect(scanSql('SELECT 1; DROP TABLE t', 'sqlite').statementCount).toBe(2);
    expect(scanSql('  -- nothing\n', 'sqlite').statementCount).toBe(0);
  });

  it('marks a param that is the whole list of [NOT] IN ( … )', () => {
    const scan = scanSql('SELECT * FROM t WHERE a IN (:xs) AND b NOT IN ( :ys ) AND c IN (:z, 1)', 'sqlite');
    expect(scan.params.map((p) => [p.name, p.inList?.negated])).toEqual([
      ['xs', false],
      ['ys', true],
      ['z', undefined],
    ]);
  });
});

describe('compileSql', () => {
  const sql = "SELECT ':a' AS lit, :a AS a FROM t WHERE b IN (:bs) AND a <> :a AND c NOT IN (:cs)";

  it('SQLite: one ? per occurrence, a list spread over as many ? as it has values', () => {
    const out = compileSql(
      scanSql(sql, 'sqlite'),
      new Map([
        ['bs', 3],
        ['cs', 0],
      ]),
    );
    expect(out.text).toBe(
      "SELECT ':a' AS lit, ? AS a FROM t WHERE b IN (?, ?, ?) AND a <> ? AND c NOT IN ()",
    );
    expect(out.slots).toEqual(['a', 'bs', 'a', 'cs']);
  });

  it('PostgreSQL: $n per distinct name; IN (:list) becomes = ANY($n), NOT IN (:list) becomes <> ALL($n)', () => {
    const out = compileSql(
      scanSql(sql, 'postgres'),
      new Map([
        ['bs', 3],
        ['cs', 0],
      ]),
    );
    expect(out.text).toBe(
      "SELECT ':a' AS lit, $1 AS a FROM t WHERE b = ANY($2) AND a <> $1 AND c <> ALL($3)",
    );
    expect(out.slots).toEqual(['a', 'bs', 'cs']);
  });

  it('PostgreSQL: a scalar in IN (:x) stays a plain placeholder; casts and dollar quotes are kept', () => {
    const out = compileSql(scanSql('SELECT $$:x$$, :x::int FROM t WHERE id IN (:x)', 'postgres'));
    expect(out.text).toBe('SELECT $$:x$$, $1::int FROM t WHERE id IN ($1)');
  });

  it('leaves SQL without params unchanged', () => {
    const text = "SELECT * FROM t WHERE a = 'x' -- :no";
    expect(compileSql(scanSql(text, 'sqlite')).text).toBe(text);
  });
});
