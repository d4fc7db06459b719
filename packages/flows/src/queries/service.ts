// The named-query service: runs the queries of queries.yaml by name, with typed params, a result
// cache, a row cap, slow-query logging, index creation and reload.
import { performance } from 'node:perf_hooks';
import { BatonError, createLogger, nearest, type Logger, type Store } from '@baton/core';
import type { ConfigView, SourceLocation } from '../config/types.js';
import type { QueryParam } from '../config/kinds/queries.js';
import { ConfigError, Diagnostics } from '../config/diagnostics.js';
import { bindValues } from './params.js';
import { TtlCache } from './cache.js';
import { toJsonRows } from './rows.js';
import { deepFreeze } from '../freeze.js';
import { runError } from './errors.js';
import {
  closeState,
  loadState,
  type LoadContext,
  type LoadedIndex,
  type LoadedQuery,
  type ServiceState,
} from './load.js';

/** Options of {@link createQueryService}. */
export interface QueryServiceOptions {
  /** Baton's own store, for datasources of `type: baton`. The service does not close it. */
  store?: Store;
  /** Where slow queries (warn) and, with enable_query_logging, every run (debug) are logged. Default: `createLogger()`. */
  logger?: Logger;
  /** The clock of the result cache, in ms. Default: `Date.now`. */
  now?: () => number;
}

/** The result of a run, as the CLI and the HTTP API print it. A result that is cached is frozen: callers share it. */
export interface QueryResult {
  readonly query: string;
  /** The rows, JSON-safe: integers beyond 2^53 as text, binary data as base64, dates as ISO text. */
  readonly results: readonly Readonly<Record<string, unknown>>[];
  readonly count: number;
  /** Set when the SQL has no LIMIT and more rows than `optimization.max_results_without_limit` matched. */
  readonly truncated?: true;
  /** Set when the result came from the cache. */
  readonly cached?: true;
}

/** A query as `baton queries list` shows it. */
export interface QueryInfo {
  readonly name: string;
  readonly description: string;
  readonly datasource: string;
  readonly params: readonly QueryParam[];
  /** Seconds its results are cached (0: not cached). */
  readonly cache_ttl: number;
  readonly location: SourceLocation;
}

/** Counters of one query since the service started. */
export interface QueryStats {
  /** Runs answered from the cache. */
  hits: number;
  /** Runs of a cached query that found no valid entry. */
  misses: number;
  /** Statements executed on the datasource. */
  runs: number;
  /** Executions that took at least `optimization.slow_query_threshold_ms`. */
  slow: number;
}

/** What `applyIndexes` did: index names created, and those that already existed. */
export interface IndexReport {
  readonly created: string[];
  readonly existing: string[];
}

/** Runs the named queries of a configuration. Create it with {@link createQueryService}. */
export interface QueryService {
  /**
   * Runs query `name` with `params` (text is converted to each param's type; see docs/queries.md).
   * @throws BatonError `E_NOT_FOUND` for an unknown name (with a did-you-mean), `E_INPUT_INVALID`
   *   for a bad, missing or undeclared param, `E_TIMEOUT` when the statement_timeout cancels it,
   *   `E_DATABASE_UNAVAILABLE` when the database cannot be reached.
   */
  run(name: string, params?: Readonly<Record<string, unknown>>): Promise<QueryResult>;
  /** The queries, in the order queries.yaml declares them. */
  list(): QueryInfo[];
  /**
   * Creates the indexes queries.yaml declares (`CREATE INDEX IF NOT EXISTS`). Idempotent. Checks
   * first that every table and column exists, and creates none otherwise.
   * @throws ConfigError (`E_CONFIG_INVALID`) naming each index that cannot be created, with its file:line.
   */
  applyIndexes(): Promise<IndexReport>;
  /** Counters per query, by name. */
  stats(): Record<string, QueryStats>;
  /**
   * Loads `config` (every query prepared again), then swaps it in and empties the cache. On error
   * the current configuration stays and the error is thrown.
   */
  reload(config: ConfigView): Promise<void>;
  /** Closes the datasources the service opened. */
  close(): Promise<void>;
}

/**
 * Opens the datasources of `config` and prepares every query on its datasource, so that a syntax
 * error, an unknown table or column, a write, an undeclared or unused param, or an unknown datasource
 * is reported now, with the query's name and file:line, rather than at the first run.
 * @throws ConfigError (`E_CONFIG_INVALID`) listing every problem (`details.diagnostics`).
 * @throws BatonError `E_DATABASE_UNAVAILABLE` when a database cannot be reached.
 */
export async function createQueryService(
  config: ConfigView,
  options: QueryServiceOptions = {},
): Promise<QueryService> {
  const ctx: LoadContext = { store: options.store, logger: options.logger ?? createLogger() };
  return new NamedQueries(await loadState(config, ctx), ctx, options.now ?? Date.now);
}

class NamedQueries implements QueryService {
  private readonly cache: TtlCache<QueryResult>;
  private readonly counters = new Map<string, QueryStats>();
  /** Reloads run one after another. */
  private reloading: Promise<unknown> = Promise.resolve();
  /** Runs in flight per state, so a reload closes the old datasources only once they are done. */
  private readonly inFlight = new Map<ServiceState, { count: number; idle?: () => void }>();
  private closed = false;

  constructor(
    private state: ServiceState,
    private readonly ctx: LoadContext,
    now: () => number,
  ) {
    this.cache = new TtlCache(now);
  }

  async run(name: string, params: Readonly<Record<string, unknown>> = {}): Promise<QueryResult> {
    const state = this.current();
    const query = state.queries.get(name);
    if (!query) throw this.notFound(name);
    const values = bindValues(name, query.definition.params, query.defaults, params);
    checkBounds(query, values);
    const stats = this.statsOf(name);
    const key = query.cacheTtl > 0 ? `${name}\0${JSON.stringify(values)}` : undefined;
    if (key !== undefined) {
      const hit = this.cache.get(key);
      if (hit) {
        stats.hits++;
        if (state.settings.logEveryRun)
          this.ctx.logger.debug({ query: name, cached: true }, `query '${name}' (cached)`);
        return Object.freeze({ ...hit, cached: true });
      }
      stats.misses++;
    }

    const started = performance.now();
    let raw;
    this.enter(state);
    try {
      raw = await query.prepared.run(values, query.maxRows);
    } catch (err) {
      throw runError(name, query.datasource, err);
    } finally {
      this.leave(state);
    }
    const ms = Math.round((performance.now() - started) * 1000) / 1000;
    stats.runs++;
    this.logRun(state, query, ms, raw.rows.length);

    const result: QueryResult = {
      query: name,
      results: toJsonRows(raw.rows),
      count: raw.rows.length,
      ...(raw.truncated ? { truncated: true as const } : {}),
    };
    // A result read under a configuration that a reload has since replaced is not kept. One that is
    // kept is frozen: every caller that hits it shares it.
    if (key !== undefined && this.state === state)
      this.cache.set(key, deepFreeze(result), query.cacheTtl * 1000);
    return result;
  }

  private enter(state: ServiceState): void {
    const runs = this.inFlight.get(state) ?? { count: 0 };
    runs.count++;
    this.inFlight.set(state, runs);
  }

  private leave(state: ServiceState): void {
    const runs = this.inFlight.get(state)!;
    if (--runs.count > 0) return;
    this.inFlight.delete(state);
    runs.idle?.();
  }

  private drained(state: ServiceState): Promise<void> {
    const runs = this.inFlight.get(state);
    return runs ? new Promise((resolve) => (runs.idle = resolve)) : Promise.resolve();
  }

  list(): QueryInfo[] {
    return [...this.current().queries.values()].map((q) => ({
      name: q.name,
      description: q.definition.description,
      datasource: q.datasource,
      params: q.definition.params,
      cache_ttl: q.cacheTtl,
      location: q.location,
    }));
  }

  async applyIndexes(): Promise<IndexReport> {
    const state = this.current();
    const byDatasource = new Map<string, LoadedIndex[]>();
    for (const i of state.indexes)
      byDatasource.set(i.datasource, [...(byDatasource.get(i.datasource) ?? []), i]);
    const diags = new Diagnostics();
    for (const [name, indexes] of byDatasource) {
      const problems = await state.datasources.get(name)!.checkIndexes(indexes.map((i) => i.definition));
      problems.forEach((problem, i) => {
        if (problem)
          diags.error(indexes[i].location, `queries.indexes[${state.indexes.indexOf(indexes[i])}]`, problem);
      });
    }
    if (diags.errors.length) throw new ConfigError(diags.list);
    const report: IndexReport = { created: [], existing: [] };
    for (const [name, indexes] of byDatasource) {
      const created = await state.datasources.get(name)!.createIndexes(indexes.map((i) => i.definition));
      indexes.forEach((index, i) =>
        (created[i] ? report.created : report.existing).push(index.definition.name),
      );
    }
    return report;
  }

  stats(): Record<string, QueryStats> {
    return Object.fromEntries(
      [...this.current().queries.keys()].map((name) => [name, { ...this.statsOf(name) }]),
    );
  }

  reload(config: ConfigView): Promise<void> {
    const next = this.reloading.then(async () => {
      this.current();
      const fresh = await loadState(config, this.ctx);
      const old = this.state;
      this.state = fresh;
      this.cache.clear();
      // Runs still on the old datasources finish there (a pool that is ending serves no queued query).
      await this.drained(old);
      await closeState(old);
    });
    this.reloading = next.catch(() => undefined);
    return next;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.reloading;
    this.cache.clear();
    await closeState(this.state);
  }

  private current(): ServiceState {
    if (this.closed) throw new BatonError('E_INVALID_STATE', 'the query service is closed; create a new one');
    return this.state;
  }

  private statsOf(name: string): QueryStats {
    let s = this.counters.get(name);
    if (!s) this.counters.set(name, (s = { hits: 0, misses: 0, runs: 0, slow: 0 }));
    return s;
  }

  private logRun(state: ServiceState, query: LoadedQuery, ms: number, count: number): void {
    const { slowQueryMs, logEveryRun } = state.settings;
    if (slowQueryMs !== undefined && ms >= slowQueryMs) {
      this.statsOf(query.name).slow++;
      this.ctx.logger.warn(
        { query: query.name, ms, datasource: query.datasource, thresholdMs: slowQueryMs },
        `slow query '${query.name}': ${ms} ms (threshold ${slowQueryMs} ms)`,
      );
    } else if (logEveryRun) {
      this.ctx.logger.debug(
        { query: query.name, ms, count },
        `query '${query.name}': ${count} rows in ${ms} ms`,
      );
    }
  }

  private notFound(name: string): BatonError {
    const names = [...this.state.queries.keys()];
    const hint = nearest(name, names);
    return new BatonError(
      'E_NOT_FOUND',
      `no query named '${name}'` +
        (hint ? ` (did you mean '${hint}'?)` : '') +
        (names.length
          ? `; \`baton queries list\` shows the ${names.length} queries`
          : '; queries.yaml declares none'),
      { details: { query: name, suggestion: hint } },
    );
  }
}

/** Refuses a LIMIT or OFFSET value that would lift the bound: SQLite reads a negative LIMIT, and both read NULL, as none. */
function checkBounds(query: LoadedQuery, values: readonly unknown[]): void {
  for (const bound of query.boundParams) {
    const v = values[query.definition.params.findIndex((p) => p.name === bound)];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
      throw new BatonError(
        'E_INPUT_INVALID',
        `query '${query.name}': param '${bound}' bounds the result (LIMIT/OFFSET), so it must be a whole number of 0 or more, got ${JSON.stringify(v)}`,
      );
    }
  }
}
