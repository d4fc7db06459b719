// What the query service needs from a database, whatever its kind: prepare every query at load,
// run a prepared query read-only, and create the declared indexes.
import { nearest } from '@baton/core';
import type { IndexDefinition, QueryParam } from '../config/kinds/queries.js';
import type { ParamValue } from './params.js';
import type { SqlDialect, SqlScan } from './sql-params.js';

/** What a datasource needs to prepare one query. */
export interface QueryPlan {
  readonly name: string;
  readonly scan: SqlScan;
  /** The declared params; run values come in this order. */
  readonly params: readonly QueryParam[];
  /** The query's own statement_timeout in ms, when it sets one. */
  readonly timeoutMs: number | undefined;
}

/** Rows as the driver returned them, and whether reading stopped at the cap. */
export interface RawRows {
  readonly rows: Record<string, unknown>[];
  readonly truncated: boolean;
}

/** A query prepared against its datasource. */
export interface PreparedQuery {
  /** Runs with `values` (in the order of the plan's params); stops reading after `maxRows` rows when given. */
  run(values: readonly ParamValue[], maxRows: number | undefined): Promise<RawRows>;
}

/** An open datasource. */
export interface Datasource {
  readonly name: string;
  readonly dialect: SqlDialect;
  /**
   * Prepares every plan against the database. Each entry is the prepared query, or why it did not
   * prepare (the driver's message: a syntax error, an unknown table or column, a statement that writes).
   */
  prepare(plans: readonly QueryPlan[]): Promise<(PreparedQuery | string)[]>;
  /** For each index, why it cannot be created (a missing table or column), or undefined. */
  checkIndexes(indexes: readonly IndexDefinition[]): Promise<(string | undefined)[]>;
  /** Creates the indexes that do not exist yet: true for each one created, false for one that existed. */
  createIndexes(indexes: readonly IndexDefinition[]): Promise<boolean[]>;
  close(): Promise<void>;
}

/** Quotes an SQL identifier (SQLite and PostgreSQL alike). */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `CREATE [UNIQUE] INDEX IF NOT EXISTS` for a declared index, every name quoted. */
export function createIndexSql(index: IndexDefinition): string {
  const columns = index.columns.map(quoteIdent).join(', ');
  return `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quoteIdent(index.name)} ON ${quoteIdent(index.table)} (${columns})`;
}

/** Why `index` cannot be created on a table with `columns` (none: the table does not exist), or undefined. */
export function indexProblem(
  index: IndexDefinition,
  columns: readonly string[],
  datasource: string,
): string | undefined {
  if (columns.length === 0) {
    return `index '${index.name}': table '${index.table}' does not exist in datasource '${datasource}'`;
  }
  const known = new Set(columns.map((c) => c.toLowerCase()));
  const missing = index.columns.filter((c) => !known.has(c.toLowerCase()));
  if (missing.length === 0) return undefined;
  const hints = missing.map((c) => nearest(c, columns)).filter((h) => h !== undefined);
  return (
    `index '${index.name}': table '${index.table}' has no column ${missing.map((c) => `'${c}'`).join(', ')}` +
    (hints.length ? ` (did you mean ${hints.map((h) => `'${h}'`).join(', ')}?)` : '') +
    `; its columns are: ${columns.join(', ')}`
  );
}

/** For each placeholder slot, the index of its param in the plan's declared order. */
export function slotIndexes(plan: QueryPlan, slots: readonly string[]): number[] {
  return slots.map((name) => plan.params.findIndex((p) => p.name === name));
}
