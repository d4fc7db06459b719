// Builds the query service's state from a configuration: resolves each query's datasource, checks
// its params against its SQL, opens the datasources it needs and prepares every query there, so that
// every mistake is reported at load, all at once, each with its file:line.
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { BatonError, nearest, parseDatabaseUrl, type Logger, type Store } from '@baton/core';
import { ConfigError, Diagnostics, formatLocation } from '../config/diagnostics.js';
import { formatPath, nearestLocation, parsePath } from '../config/paths.js';
import type { ConfigView, SourceLocation } from '../config/types.js';
import type { DatasourceDefinition } from '../config/kinds/datasources.js';
import type { IndexDefinition, QueryDefinition } from '../config/kinds/queries.js';
import { absentValue, listElement, type ParamValue } from './params.js';
import { scanSql, type SqlScan } from './sql-params.js';
import { SqliteDatasource } from './sqlite.js';
import { PgDatasource } from './postgres.js';
import { isUnavailable } from './errors.js';
import type { Datasource, PreparedQuery, QueryPlan } from './datasource.js';

/** `optimization` of queries.yaml with its defaults applied. */
export interface ServiceSettings {
  /** Seconds results are cached for queries that set no cache_ttl (0: not cached). */
  readonly defaultCacheTtl: number;
  /** Rows returned at most by a query without a top-level LIMIT. */
  readonly maxResultsWithoutLimit: number;
  readonly logEveryRun: boolean;
  /** A run taking at least this many ms is logged as slow; undefined: never. */
  readonly slowQueryMs: number | undefined;
}

/** A query ready to run. */
export interface LoadedQuery {
  readonly name: string;
  readonly definition: QueryDefinition;
  readonly datasource: string;
  readonly location: SourceLocation;
  /** The value of each declared param when it is not given (its converted default, else null or []). */
  readonly defaults: readonly ParamValue[];
  /** 0: not cached. */
  readonly cacheTtl: number;
  /** Set when the SQL has no top-level LIMIT: reading stops after this many rows. */
  readonly maxRows: number | undefined;
  /** Params that are a LIMIT's or OFFSET's value (they must be whole numbers ≥ 0). */
  readonly boundParams: readonly string[];
  readonly prepared: PreparedQuery;
}

/** A declared index and the datasource it goes to. */
export interface LoadedIndex {
  readonly definition: IndexDefinition;
  readonly datasource: string;
  readonly location: SourceLocation;
}

/** Everything a configuration gives the service; replaced as a whole on reload. */
export interface ServiceState {
  readonly queries: ReadonlyMap<string, LoadedQuery>;
  readonly indexes: readonly LoadedIndex[];
  readonly datasources: ReadonlyMap<string, Datasource>;
  readonly settings: ServiceSettings;
}

/** What opening datasources may need besides the configuration. */
export interface LoadContext {
  readonly store: Store | undefined;
  readonly logger: Logger;
}

const DEFAULT_MAX_RESULTS = 1000;

/** Where `path` was set, or its nearest enclosing key that was (a hand-built config may know few). */
function locateNear(config: ConfigView, path: string): SourceLocation {
  return nearestLocation(parsePath(path), (p) => config.locate(p)) ?? { file: config.dir, line: 1, col: 1 };
}

/** A query whose params check out, waiting to be prepared on its datasource. */
export interface Pending {
  readonly plan: QueryPlan;
  readonly definition: QueryDefinition;
  readonly path: string;
  readonly defaults: readonly ParamValue[];
}

/** What a configuration's queries and indexes need, found without opening any database. */
export interface QueryPlanning {
  readonly pending: ReadonlyMap<string, readonly Pending[]>;
  readonly indexes: readonly LoadedIndex[];
  /** Problems by key path: `at` is where to point (the path itself unless said otherwise). */
  readonly problems: readonly { readonly path: string; readonly message: string; readonly at: string }[];
}

/**
 * Checks the queries and indexes of `config` against its datasources' declarations, without I/O:
 * datasource names, `:name` params declared and used, placeholders, statements, defaults. The
 * configuration loader runs it too, so `baton config validate` reports these with file:line.
 */
export function planQueries(config: ConfigView): QueryPlanning {
  const problems: { path: string; message: string; at: string }[] = [];
  const error = (path: string, message: string, at = path) => problems.push({ path, message, at });
  const declared = config.value.datasources?.datasources ?? {};
  const names = Object.keys(declared);
  const fallback = config.value.datasources?.default_datasource;
  if (fallback !== undefined && !Object.hasOwn(declared, fallback)) {
    error('datasources.default_datasource', `default_datasource: ${unknownDatasource(fallback, names)}`);
  }

  /** The datasource of a query or index (reported and undefined when it has none). */
  const datasourceOf = (explicit: string | undefined, path: string, what: string): string | undefined => {
    if (explicit !== undefined) {
      if (Object.hasOwn(declared, explicit)) return explicit;
      error(`${path}.datasource`, `${what}: ${unknownDatasource(explicit, names)}`);
      return undefined;
    }
    if (fallback !== undefined) return Object.hasOwn(declared, fallback) ? fallback : undefined;
    if (names.length === 1) return names[0];
    error(
      path,
      names.length === 0
        ? `${what} needs a datasource and none is declared: add datasources.yaml with, e.g., datasources: { main: { type: sqlite, path: data/app.db } }`
        : `${what} names no datasource and several are declared (${names.join(', ')}): set datasource: on it, or default_datasource in datasources.yaml`,
    );
    return undefined;
  };

  const pending = new Map<string, Pending[]>();
  for (const [name, definition] of Object.entries(config.value.queries?.queries ?? {})) {
    const path = formatPath(['queries', 'queries', name]);
    const ds = datasourceOf(definition.datasource, path, `query '${name}'`);
    if (ds === undefined) continue;
    const scan = scanSql(definition.sql, declared[ds].type === 'sqlite' ? 'sqlite' : 'postgres');
    const found = paramProblems(definition, scan, path);
    const defaults = definition.params.map((p, i) => {
      try {
        return absentValue(p);
      } catch (err) {
        found.push([`${path}.params[${i}].default`, (err as Error).message]);
        return null;
      }
    });
    for (const [at, message] of found) error(at, `query '${name}': ${message}`);
    if (found.length) continue;
    const plan = { name, scan, params: definition.params, timeoutMs: definition.statement_timeout_ms };
    pending.set(ds, [...(pending.get(ds) ?? []), { plan, definition, path, defaults }]);
  }

  const indexes: LoadedIndex[] = [];
  (config.value.queries?.indexes ?? []).forEach((definition, i) => {
    const path = `queries.indexes[${i}]`;
    const ds = datasourceOf(definition.datasource, path, `index '${definition.name}'`);
    if (ds !== undefined) indexes.push({ definition, datasource: ds, location: locateNear(config, path) });
  });
  return { pending, indexes, problems };
}

/**
 * Loads `config` into a state. Opens the datasources that queries and indexes use and prepares
 * every query; on any problem closes what it opened and throws.
 * @throws ConfigError (`E_CONFIG_INVALID`) listing every problem with its file:line:col.
 * @throws BatonError `E_DATABASE_UNAVAILABLE` when a database cannot be reached.
 */
export async function loadState(config: ConfigView, ctx: LoadContext): Promise<ServiceState> {
  const diags = new Diagnostics();
  const error = (path: string, message: string, at = path) =>
    diags.error(locateNear(config, at), path, message);
  const declared = config.value.datasources?.datasources ?? {};
  const { pending, indexes, problems } = planQueries(config);
  for (const p of problems) error(p.path, p.message, p.at);

  const datasources = new Map<string, Datasource>();
  try {
    for (const name of new Set([...pending.keys(), ...indexes.map((i) => i.datasource)])) {
      const path = formatPath(['datasources', 'datasources', name]);
      const opened = openDatasource(name, declared[name], config, ctx);
      if (typeof opened === 'string') error(path, opened);
      else datasources.set(name, opened);
    }

    const settings = settingsOf(config);
    const queries = new Map<string, LoadedQuery>();
    for (const [dsName, items] of pending) {
      const ds = datasources.get(dsName);
      if (!ds) continue;
      const results = await prepareOn(ds, items, config);
      items.forEach((item, i) => {
        const prepared = results[i];
        const { name } = item.plan;
        if (typeof prepared === 'string') {
          error(`${item.path}.sql`, `query '${name}': ${prepared}`, item.path);
          return;
        }
        queries.set(name, {
          name,
          definition: item.definition,
          datasource: dsName,
          location: locateNear(config, item.path),
          defaults: item.defaults,
          cacheTtl: item.definition.cache_ttl ?? settings.defaultCacheTtl,
          maxRows: item.plan.scan.hasTopLevelLimit ? undefined : settings.maxResultsWithoutLimit,
          boundParams: item.plan.scan.boundParams,
          prepared,
        });
      });
    }
    if (diags.errors.length) throw new ConfigError(diags.list);
    return { queries, indexes, datasources, settings };
  } catch (err) {
    await Promise.allSettled([...datasources.values()].map((d) => d.close()));
    throw err;
  }
}

/** Closes the datasources of a state. */
export async function closeState(state: ServiceState): Promise<void> {
  await Promise.allSettled([...state.datasources.values()].map((d) => d.close()));
}

function settingsOf(config: ConfigView): ServiceSettings {
  const o = config.value.queries?.optimization;
  return {
    defaultCacheTtl: o?.default_cache_ttl ?? 0,
    maxResultsWithoutLimit: o?.max_results_without_limit ?? DEFAULT_MAX_RESULTS,
    logEveryRun: o?.enable_query_logging ?? false,
    slowQueryMs: o?.slow_query_threshold_ms,
  };
}

function unknownDatasource(name: string, declared: readonly string[]): string {
  if (declared.length === 0)
    return `datasource '${name}' is not declared, and datasources.yaml declares none`;
  const hint = nearest(name, declared);
  return (
    `datasource '${name}' is not declared in datasources.yaml` +
    (hint ? ` (did you mean '${hint}'?)` : '') +
    `; declared: ${declared.join(', ')}`
  );
}

/** What is wrong between a query's declared params and its SQL, as [key path, message] pairs. */
function paramProblems(definition: QueryDefinition, scan: SqlScan, path: string): [string, string][] {
  const problems: [string, string][] = [];
  const sqlPath = `${path}.sql`;
  if (scan.statementCount !== 1) {
    problems.push([
      sqlPath,
      scan.statementCount === 0
        ? 'its sql holds no statement'
        : `its sql holds ${scan.statementCount} statements; a named query is one statement`,
    ]);
  }
  for (const p of new Set(scan.positional)) {
    problems.push([
      sqlPath,
      `its sql uses the placeholder '${p}'; write parameters as :name and declare them under params`,
    ]);
  }
  const declaredNames = definition.params.map((p) => p.name);
  for (const used of scan.names) {
    if (declaredNames.includes(used)) continue;
    const hint = nearest(used, declaredNames);
    problems.push([
      sqlPath,
      `its sql uses :${used}, which is not declared under params` +
        (hint
          ? ` (did you mean :${hint}?)`
          : `; add { name: ${used}, type: string } (or its type) to params`),
    ]);
  }
  definition.params.forEach((p, i) => {
    if (!scan.names.includes(p.name)) {
      problems.push([
        `${path}.params[${i}]`,
        `param '${p.name}' is declared but its sql does not use it; write :${p.name} in the sql or remove the param`,
      ]);
    } else if (
      listElement(p.type) &&
      scan.dialect === 'sqlite' &&
      scan.params.some((r) => r.name === p.name && !r.inList)
    ) {
      problems.push([
        sqlPath,
        `param '${p.name}' is a list (${p.type}); in SQLite write it as IN (:${p.name}) or NOT IN (:${p.name})`,
      ]);
    }
  });
  return problems;
}

/** Opens one datasource, or says why it cannot be. */
function openDatasource(
  name: string,
  definition: DatasourceDefinition,
  config: ConfigView,
  ctx: LoadContext,
): Datasource | string {
  const dir = config.dir;
  switch (definition.type) {
    case 'sqlite': {
      const file = resolve(dir, definition.path);
      if (!existsSync(file)) {
        return `datasource '${name}': the SQLite file ${file} does not exist; create it or correct path (relative to ${dir})`;
      }
      try {
        return new SqliteDatasource(name, file);
      } catch (err) {
        return `datasource '${name}': cannot open the SQLite file ${file}: ${(err as Error).message}`;
      }
    }
    case 'postgres': {
      if (definition.url === null) {
        const unset = config.unsetVariables?.(`datasources.datasources.${name}.url`) ?? [];
        const which = unset.length ? unset.join(', ') : 'the environment variable it refers to';
        return `datasource '${name}' has no url: ${which} ${unset.length > 1 ? 'are' : 'is'} not set; set it and restart`;
      }
      try {
        parseDatabaseUrl(definition.url);
      } catch (err) {
        return `datasource '${name}': ${(err as Error).message}`;
      }
      return PgDatasource.server(name, definition.url, definition.statement_timeout_ms, ctx.logger);
    }
    case 'baton':
      return ctx.store
        ? PgDatasource.store(name, ctx.store)
        : `datasource '${name}' is Baton's own store (type: baton), but no store was given: pass { store } to createQueryService`;
  }
}

/** Prepares the queries of one datasource; a database that cannot be reached ends the load. */
async function prepareOn(ds: Datasource, items: readonly Pending[], config: ConfigView) {
  try {
    return await ds.prepare(items.map((i) => i.plan));
  } catch (err) {
    if (!isUnavailable(err)) throw err;
    const where = formatLocation(locateNear(config, formatPath(['datasources', 'datasources', ds.name])));
    throw new BatonError(
      'E_DATABASE_UNAVAILABLE',
      `datasource '${ds.name}' (${where}) cannot be reached to check its queries: ${(err as Error).message}; check that it is up`,
      { cause: err, details: { datasource: ds.name } },
    );
  }
}
