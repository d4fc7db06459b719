// A SQLite datasource: the file opened read-only (better-sqlite3), each query prepared once at load.
// Indexes are created through a separate, writable connection that lives only as long as that.
import { listElement, type ParamValue } from './params.js';
import { compileSql, type CompiledSql } from './sql-params.js';
import { openSqlite, type SqliteDatabase, type SqliteStatement } from './sqlite-driver.js';
import {
  createIndexSql,
  indexProblem,
  slotIndexes,
  type Datasource,
  type PreparedQuery,
  type QueryPlan,
  type RawRows,
} from './datasource.js';
import type { IndexDefinition } from '../config/kinds/queries.js';

/** A statement and where its placeholders take their values. */
interface Bound {
  readonly stmt: SqliteStatement;
  readonly slots: readonly number[];
}

/** Prepared statements of one query kept per list length, at most this many (beyond, the oldest goes). */
const MAX_LIST_SHAPES = 32;

class SqliteQuery implements PreparedQuery {
  /** Statements by list lengths (`'3,1'`): `IN (?, ?, ?)` needs one per length. */
  private readonly shapes = new Map<string, Bound>();
  private readonly lists: number[];

  constructor(
    private readonly db: SqliteDatabase,
    private readonly plan: QueryPlan,
    first: Bound,
  ) {
    this.lists = plan.params.flatMap((p, i) => (listElement(p.type) ? [i] : []));
    this.shapes.set(this.lists.map(() => 1).join(','), first);
  }

  async run(values: readonly ParamValue[], maxRows: number | undefined): Promise<RawRows> {
    const { stmt, slots } = this.statementFor(values);
    const args: unknown[] = [];
    for (const i of slots) {
      const v = values[i];
      if (Array.isArray(v)) for (const item of v) args.push(toSqlite(item));
      else args.push(toSqlite(v as ParamValue));
    }
    if (maxRows === undefined) return { rows: stmt.all(...args), truncated: false };
    const rows: Record<string, unknown>[] = [];
    // Leaving the loop early resets the statement: SQLite reads no further row.
    for (const row of stmt.iterate(...args)) {
      if (rows.length === maxRows) return { rows, truncated: true };
      rows.push(row);
    }
    return { rows, truncated: false };
  }

  private statementFor(values: readonly ParamValue[]): Bound {
    const key = this.lists.map((i) => (values[i] as readonly unknown[]).length).join(',');
    let bound = this.shapes.get(key);
    if (!bound) {
      const lengths = new Map(
        this.lists.map((i) => [this.plan.params[i].name, (values[i] as unknown[]).length]),
      );
      bound = prepareBound(this.db, this.plan, compileSql(this.plan.scan, lengths));
      if (this.shapes.size >= MAX_LIST_SHAPES) this.shapes.delete(this.shapes.keys().next().value!);
      this.shapes.set(key, bound);
    }
    return bound;
  }
}

/** better-sqlite3 binds no booleans: SQLite stores them as 1 and 0. */
function toSqlite(v: ParamValue): unknown {
  return typeof v === 'boolean' ? Number(v) : v;
}

function prepareBound(db: SqliteDatabase, plan: QueryPlan, compiled: CompiledSql): Bound {
  // Integers come back as bigint so none loses precision; the service turns them into JSON numbers or text.
  return { stmt: db.prepare(compiled.text).safeIntegers(true), slots: slotIndexes(plan, compiled.slots) };
}

/** A SQLite file as a datasource. */
export class SqliteDatasource implements Datasource {
  readonly dialect = 'sqlite' as const;
  private readonly db: SqliteDatabase;

  /** Opens `path` read-only; throws when the file does not exist. */
  constructor(
    readonly name: string,
    readonly path: string,
  ) {
    this.db = openSqlite(path, { readonly: true, fileMustExist: true });
  }

  async prepare(plans: readonly QueryPlan[]): Promise<(PreparedQuery | string)[]> {
    return plans.map((plan) => {
      // Each list prepares with one value; other lengths are prepared when first run.
      const lists = new Map(plan.params.filter((p) => listElement(p.type)).map((p) => [p.name, 1]));
      let bound: Bound;
      try {
        bound = prepareBound(this.db, plan, compileSql(plan.scan, lists));
      } catch (err) {
        return (err as Error).message;
      }
      if (!bound.stmt.reader || !bound.stmt.readonly) {
        return 'it is not a read-only statement that returns rows; named queries only read (SELECT, WITH …)';
      }
      return new SqliteQuery(this.db, plan, bound);
    });
  }

  async checkIndexes(indexes: readonly IndexDefinition[]): Promise<(string | undefined)[]> {
    const info = this.db.prepare('SELECT name FROM pragma_table_info(?)');
    return indexes.map((index) =>
      indexProblem(
        index,
        info.all(index.table).map((r) => String(r.name)),
        this.name,
      ),
    );
  }

  async createIndexes(indexes: readonly IndexDefinition[]): Promise<boolean[]> {
    const writer = openSqlite(this.path, { fileMustExist: true });
    try {
      const exists = writer.prepare(
        "SELECT 1 FROM sqlite_master WHERE type = 'index' AND name = ? COLLATE NOCASE",
      );
      return indexes.map((index) => {
        if (exists.get(index.name)) return false;
        writer.exec(createIndexSql(index));
        return true;
      });
    } finally {
      writer.close();
    }
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
