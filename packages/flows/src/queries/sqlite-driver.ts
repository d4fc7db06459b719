// better-sqlite3, typed. It ships no type declarations and @types/better-sqlite3 is not a
// dependency, so this file declares the part of its API Baton uses and loads it through require
// (it is a CommonJS module).
import { createRequire } from 'node:module';

/** A prepared SQLite statement (better-sqlite3's Statement). */
export interface SqliteStatement {
  /** True when the statement returns rows. */
  readonly reader: boolean;
  /** True when the statement does not write to the database. */
  readonly readonly: boolean;
  all(...params: unknown[]): Record<string, unknown>[];
  get(...params: unknown[]): Record<string, unknown> | undefined;
  iterate(...params: unknown[]): IterableIterator<Record<string, unknown>>;
  run(...params: unknown[]): { changes: number; lastInsertRowid: number | bigint };
  /** Returns INTEGER values as bigint, so none loses precision. */
  safeIntegers(on?: boolean): this;
}

/** An open SQLite database (better-sqlite3's Database). */
export interface SqliteDatabase {
  prepare(sql: string): SqliteStatement;
  exec(sql: string): this;
  /** Wraps `fn` so that each call runs in one transaction. */
  transaction<A extends unknown[]>(fn: (...args: A) => void): (...args: A) => void;
  close(): this;
}

/** better-sqlite3's options for opening a file. */
export interface SqliteOpenOptions {
  readonly?: boolean;
  fileMustExist?: boolean;
}

type SqliteConstructor = new (path: string, options?: SqliteOpenOptions) => SqliteDatabase;

const Database = createRequire(import.meta.url)('better-sqlite3') as SqliteConstructor;

/** Opens (or, unless `fileMustExist`, creates) the SQLite file at `path`. */
export function openSqlite(path: string, options: SqliteOpenOptions = {}): SqliteDatabase {
  return new Database(path, options);
}
