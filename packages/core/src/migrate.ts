import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { BatonError } from './errors.js';
import type { Driver } from './driver/types.js';

/** One numbered SQL file from packages/core/migrations. */
export interface Migration {
  version: number;
  name: string;
  sql: string;
}

const MIGRATIONS_DIR = fileURLToPath(new URL('../migrations/', import.meta.url));

/** Reads the migrations shipped with this version of Baton, in order. */
export function loadMigrations(dir = MIGRATIONS_DIR): Migration[] {
  return readdirSync(dir)
    .filter((f) => /^\d{4}_[\w-]+\.sql$/.test(f))
    .sort()
    .map((f) => ({
      version: Number(f.slice(0, 4)),
      name: f.slice(5, -4),
      sql: readFileSync(`${dir}/${f}`, 'utf8'),
    }));
}

// Any fixed number works; it only has to be the same for every Baton process.
const MIGRATION_LOCK = 7_460_312_001;

/**
 * Applies the migrations this code knows and the database lacks, in one transaction under an
 * advisory lock, so concurrent starters do not race. Refuses a database whose schema is newer.
 * Returns the versions applied now.
 */
export async function migrate(driver: Driver, migrations = loadMigrations()): Promise<number[]> {
  return applyMigrations(driver, migrations, undefined);
}

/**
 * Applies the migrations of a component built on the engine (the Architect's tables, …), tracked
 * apart from the engine's own in `baton.component_migrations`, so each component numbers its
 * migrations from 1 and upgrades on its own. Same locking and refusals as {@link migrate}; run
 * the engine's migrations first.
 */
export async function migrateComponent(
  driver: Driver,
  component: string,
  migrations: readonly Migration[],
): Promise<number[]> {
  return applyMigrations(driver, migrations, component);
}

async function applyMigrations(
  driver: Driver,
  migrations: readonly Migration[],
  component: string | undefined,
): Promise<number[]> {
  const latest = migrations.at(-1)?.version ?? 0;
  const what = component === undefined ? 'the database schema' : `the ${component} schema`;
  return driver.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK]);
    await tx.query(`CREATE SCHEMA IF NOT EXISTS baton`);
    let rows: { version: number }[];
    let record: (m: Migration) => Promise<unknown>;
    if (component === undefined) {
      await tx.query(`CREATE TABLE IF NOT EXISTS baton.migrations (
        version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`);
      rows = await tx.query<{ version: number }>('SELECT version FROM baton.migrations ORDER BY version');
      record = (m) =>
        tx.query('INSERT INTO baton.migrations (version, name) VALUES ($1, $2)', [m.version, m.name]);
    } else {
      await tx.query(`CREATE TABLE IF NOT EXISTS baton.component_migrations (
        component text NOT NULL, version integer NOT NULL, name text NOT NULL,
        applied_at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (component, version))`);
      rows = await tx.query<{ version: number }>(
        'SELECT version FROM baton.component_migrations WHERE component = $1 ORDER BY version',
        [component],
      );
      record = (m) =>
        tx.query('INSERT INTO baton.component_migrations (component, version, name) VALUES ($1, $2, $3)', [
          component,
          m.version,
          m.name,
        ]);
    }
    const applied = new Set(rows.map((r) => r.version));
    const newest = rows.at(-1)?.version ?? 0;
    if (newest > latest) {
      throw new BatonError(
        'E_SCHEMA_TOO_NEW',
        `${what} is at version ${newest} but this Baton knows only up to ${latest}; upgrade Baton (or point it at another database) before running it here`,
        { details: { databaseVersion: newest, codeVersion: latest, component } },
      );
    }
    const done: number[] = [];
    for (const m of migrations) {
      if (applied.has(m.version)) continue;
      try {
        await tx.script(m.sql);
      } catch (err) {
        const label =
          component === undefined ? `migration ${m.version}` : `${component} migration ${m.version}`;
        throw new BatonError('E_MIGRATION_FAILED', `${label} (${m.name}) failed: ${(err as Error).message}`, {
          cause: err,
        });
      }
      await record(m);
      done.push(m.version);
    }
    return done;
  });
}

/** The schema version the database is at, or 0 for an empty database. */
export async function schemaVersion(driver: Driver): Promise<number> {
  // Two statements: a query naming baton.migrations fails to parse where the table does not exist.
  const [t] = await driver.query<{ exists: boolean }>(
    `SELECT to_regclass('baton.migrations') IS NOT NULL AS exists`,
  );
  if (!t?.exists) return 0;
  const rows = await driver.query<{ v: number | null }>('SELECT max(version) AS v FROM baton.migrations');
  return rows[0]?.v ?? 0;
}
