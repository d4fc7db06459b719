// `database` steps: insert, update, delete or select rows of one table of a datasource, with column
// values from `data` and equality filters from `where`. Statements are built from quoted names and
// bound values only. Writes go only to datasources marked `writable: true` (queries stay read-only).
import { resolve } from 'node:path';
import { BatonError, type Logger, type Store } from '@baton/core';
import type { Config } from '../config/config.js';
import type { DatasourceDefinition } from '../config/kinds/datasources.js';
import { quoteIdent } from '../queries/datasource.js';
import { PoolSession, StoreSession, type PgSession } from '../queries/postgres.js';
import { toJsonRows } from '../queries/rows.js';
import { openSqlite, type SqliteDatabase } from '../queries/sqlite-driver.js';

export type TableAction = 'insert' | 'update' | 'delete' | 'select';

/** One statement of a `database` step. */
export interface TableStatement {
  readonly datasource?: string;
  readonly action: TableAction;
  readonly table: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly where?: Readonly<Record<string, unknown>>;
}

/** Rows read by a select, at most. */
const SELECT_LIMIT = 1000;

/** Runs `database` steps' statements; datasources are opened on first use. */
export class Tables {
  private readonly open = new Map<
    string,
    { run(sql: string, params: unknown[]): Promise<Record<string, unknown>[]>; close(): Promise<void> }
  >();

  constructor(
    private readonly config: () => Config,
    private readonly store: Store | undefined,
    private readonly logger: Logger,
  ) {}

  async run(s: TableStatement): Promise<Record<string, unknown>[]> {
    const { name, def } = datasourceOf(this.config(), s.datasource);
    if (s.action !== 'select' && def.writable !== true) {
      throw new BatonError(
        'E_POLICY_DENIED',
        `datasource '${name}' is not writable: a database ${s.action} needs writable: true on it in datasources.yaml`,
      );
    }
    const dialect = def.type === 'sqlite' ? 'sqlite' : 'postgres';
    const { sql, params } = statementSql(s, dialect);
    const conn = this.connection(name, def);
    return toJsonRows(await conn.run(sql, params));
  }

  private connection(name: string, def: DatasourceDefinition) {
    let c = this.open.get(name);
    if (c) return c;
    if (def.type === 'sqlite') {
      const db: SqliteDatabase = openSqlite(resolve(this.config().dir, def.path), { fileMustExist: true });
      c = {
        run: async (sql, params) => db.prepare(sql).all(...params.map(toSqlite)),
        close: async () => void db.close(),
      };
    } else {
      let session: PgSession;
      if (def.type === 'baton') {
        if (!this.store)
          throw new BatonError(
            'E_CONFIG_INVALID',
            `datasource '${name}' is Baton's store, which this process has not opened`,
          );
        session = new StoreSession(this.store);
      } else {
        if (!def.url)
          throw new BatonError(
            'E_CONFIG_INVALID',
            `datasource '${name}' has no url (its environment variable is unset)`,
          );
        session = new PoolSession(def.url, this.logger);
      }
      c = {
        run: (sql, params) => session.transaction(false, (run) => run(sql, params)),
        close: () => session.close(),
      };
    }
    this.open.set(name, c);
    return c;
  }

  async close(): Promise<void> {
    for (const c of this.open.values()) await c.close();
    this.open.clear();
  }
}

/** The datasource a statement names, or the default one. */
export function datasourceOf(
  config: Config,
  given: string | undefined,
): { name: string; def: DatasourceDefinition } {
  const all = config.value.datasources?.datasources ?? {};
  const names = Object.keys(all);
  const name =
    given ?? config.value.datasources?.default_datasource ?? (names.length === 1 ? names[0] : undefined);
  if (name === undefined || !Object.hasOwn(all, name)) {
    throw new BatonError(
      'E_CONFIG_INVALID',
      name === undefined
        ? `a database step names no datasource and ${names.length ? `several are declared (${names.join(', ')})` : 'none is declared'}`
        : `no datasource '${name}' (declared: ${names.join(', ') || 'none'})`,
    );
  }
  return { name, def: all[name]! };
}

function toSqlite(v: unknown): unknown {
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v !== null && typeof v === 'object') return JSON.stringify(v);
  return v;
}

/** The SQL of a statement, with `$n` (PostgreSQL) or `?` (SQLite) placeholders. */
export function statementSql(
  s: TableStatement,
  dialect: 'sqlite' | 'postgres',
): { sql: string; params: unknown[] } {
  const params: unknown[] = [];
  const bind = (v: unknown): string => {
    params.push(dialect === 'postgres' && v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
    return dialect === 'postgres' ? `$${params.length}` : '?';
  };
  const where = (): string => {
    const entries = Object.entries(s.where ?? {});
    if (entries.length === 0) return '';
    const terms = entries.map(([col, v]) => {
      if (v === null) return `${quoteIdent(col)} IS NULL`;
      if (Array.isArray(v))
        return v.length === 0 ? 'false' : `${quoteIdent(col)} IN (${v.map(bind).join(', ')})`;
      return `${quoteIdent(col)} = ${bind(v)}`;
    });
    return ` WHERE ${terms.join(' AND ')}`;
  };
  // Updates and deletes must say which rows: without `where` they would touch the whole table.
  if ((s.action === 'update' || s.action === 'delete') && Object.keys(s.where ?? {}).length === 0) {
    throw new BatonError(
      'E_INPUT_INVALID',
      `a database ${s.action} of '${s.table}' needs where: without it every row would change`,
    );
  }
  const table = quoteIdent(s.table);
  const data = Object.entries(s.data ?? {});
  switch (s.action) {
    case 'insert': {
      if (data.length === 0) return { sql: `INSERT INTO ${table} DEFAULT VALUES RETURNING *`, params };
      const cols = data.map(([c]) => quoteIdent(c)).join(', ');
      const values = data.map(([, v]) => bind(v)).join(', ');
      return { sql: `INSERT INTO ${table} (${cols}) VALUES (${values}) RETURNING *`, params };
    }
    case 'update': {
      if (data.length === 0)
        throw new BatonError(
          'E_INPUT_INVALID',
          `a database update of '${s.table}' needs data: the columns to set`,
        );
      const set = data.map(([c, v]) => `${quoteIdent(c)} = ${bind(v)}`).join(', ');
      return { sql: `UPDATE ${table} SET ${set}${where()} RETURNING *`, params };
    }
    case 'delete':
      return { sql: `DELETE FROM ${table}${where()} RETURNING *`, params };
    case 'select':
      return { sql: `SELECT * FROM ${table}${where()} LIMIT ${SELECT_LIMIT}`, params };
  }
}
