// The query service on SQLite: cache, row cap, list params, JSON-safe rows, logging, indexes,
// reload and close.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import { ConfigError } from '../src/config/diagnostics.js';
import { createQueryService, type QueryService } from '../src/queries/index.js';
import { openSqlite } from '../src/queries/sqlite-driver.js';
import { makeArchitectDb, type ArchitectData } from '../../../examples/architect/make-db.js';
import {
  AT,
  clock,
  fixtureQueries,
  queries,
  recordingLogger,
  silent,
  sqliteSource,
  tempDir,
  view,
} from './queries-helpers.js';

let dir: string;
let remove: () => void;
let data: ArchitectData;
const DB = 'architect.db';
const open: QueryService[] = [];

beforeAll(() => {
  ({ dir, remove } = tempDir());
  data = makeArchitectDb(join(dir, DB), { seed: 3 });
});

afterAll(async () => {
  await Promise.all(open.map((s) => s.close()));
  remove();
});

/** A service on the example database with the given queries.yaml. */
async function service(yaml: string | object, options: Parameters<typeof createQueryService>[1] = {}) {
  const s = await createQueryService(view(dir, { queries: queries(yaml), datasources: sqliteSource(DB) }), {
    logger: silent,
    ...options,
  });
  open.push(s);
  return s;
}

/** Changes the database through a connection of its own. */
function write(sql: string): void {
  const db = openSqlite(join(dir, DB));
  try {
    db.exec(sql);
  } finally {
    db.close();
  }
}

const ONE_QUERY = `
queries:
  by_status:
    description: tasks of a status
    sql: SELECT id FROM tasks WHERE status = :status ORDER BY id LIMIT 1000
    params: [{ name: status, type: string, required: true }]
    cache_ttl: 10
`;

describe('result cache', () => {
  it('serves a repeated run from the cache until cache_ttl passes, per parameter values', async () => {
    const time = clock();
    const s = await service(ONE_QUERY, { now: time.now });
    const first = await s.run('by_status', { status: 'pending' });
    expect(first.cached).toBeUndefined();

    write(
      "INSERT INTO tasks (id, type, status, priority, created_at) VALUES (99999, 'testing', 'pending', 1, '2020-01-01 00:00:00')",
    );
    const hit = await s.run('by_status', { status: 'pending' });
    expect(hit).toEqual({ ...first, cached: true });
    // Other values are another entry.
    expect((await s.run('by_status', { status: 'failed' })).cached).toBeUndefined();
    expect(s.stats().by_status).toEqual({ hits: 1, misses: 2, runs: 2, slow: 0 });

    time.advance(9_999);
    expect((await s.run('by_status', { status: 'pending' })).cached).toBe(true);
    time.advance(1);
    const fresh = await s.run('by_status', { status: 'pending' });
    expect(fresh.cached).toBeUndefined();
    expect(fresh.count).toBe(first.count + 1);
    expect(s.stats().by_status).toEqual({ hits: 2, misses: 3, runs: 3, slow: 0 });
    write('DELETE FROM tasks WHERE id = 99999');
  });

  it('keys on converted values: text and numbers that mean the same share an entry', async () => {
    const s = await service(
      `queries:
        top:
          description: top
          sql: SELECT id FROM tasks ORDER BY id LIMIT :n
          params: [{ name: n, type: integer }]
          cache_ttl: 60`,
    );
    await s.run('top', { n: '3' });
    expect((await s.run('top', { n: 3 })).cached).toBe(true);
  });

  it('does not cache with cache_ttl 0; uses default_cache_ttl when a query sets none', async () => {
    const s = await service(`
queries:
  never:
    description: never cached
    sql: SELECT COUNT(*) AS n FROM tasks
    params: []
    cache_ttl: 0
  default:
    description: cached by default
    sql: SELECT COUNT(*) AS n FROM tasks
    params: []
optimization:
  default_cache_ttl: 30
`);
    await s.run('never');
    expect((await s.run('never')).cached).toBeUndefined();
    await s.run('default');
    expect((await s.run('default')).cached).toBe(true);
    expect(s.stats()).toEqual({
      never: { hits: 0, misses: 0, runs: 2, slow: 0 },
      default: { hits: 1, misses: 1, runs: 1, slow: 0 },
    });
    expect(s.list().map((q) => [q.name, q.cache_ttl])).toEqual([
      ['never', 0],
      ['default', 30],
    ]);
  });

  it('is dropped on reload', async () => {
    const s = await service(ONE_QUERY);
    await s.run('by_status', { status: 'failed' });
    expect((await s.run('by_status', { status: 'failed' })).cached).toBe(true);
    await s.reload(view(dir, { queries: queries(ONE_QUERY), datasources: sqliteSource(DB) }));
    expect((await s.run('by_status', { status: 'failed' })).cached).toBeUndefined();
  });

  it('freezes what it caches, so one caller cannot change what the next one reads', async () => {
    const s = await service(ONE_QUERY);
    for (const r of [
      await s.run('by_status', { status: 'failed' }),
      await s.run('by_status', { status: 'failed' }),
    ]) {
      expect(Object.isFrozen(r) && Object.isFrozen(r.results) && Object.isFrozen(r.results[0])).toBe(true);
    }
  });
});

describe('max_results_without_limit', () => {
  const yaml = `
queries:
  no_limit:
    description: every task
    sql: SELECT id FROM tasks ORDER BY id
    params: []
  inner_limit_only:
    description: a LIMIT inside a subquery does not bound the result
    sql: SELECT id FROM tasks WHERE id NOT IN (SELECT id FROM tasks ORDER BY id LIMIT 2) ORDER BY id
    params: []
  own_limit:
    description: bounded by its own LIMIT
    sql: SELECT id FROM tasks ORDER BY id LIMIT 20
    params: []
  few:
    description: fewer rows than the cap
    sql: SELECT name FROM projects WHERE id <= 3 ORDER BY id
    params: []
optimization:
  max_results_without_limit: 7
`;

  it('caps a query without a top-level LIMIT and says so', async () => {
    const s = await service(yaml);
    const capped = await s.run('no_limit');
    expect(capped).toMatchObject({ count: 7, truncated: true });
    expect(capped.results.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(await s.run('inner_limit_only')).toMatchObject({ count: 7, truncated: true });
    expect(capped.results.length).toBe(7);
  });

  it('leaves a query with its own LIMIT, or fewer rows than the cap, alone', async () => {
    const s = await service(yaml);
    const own = await s.run('own_limit');
    expect(own.count).toBe(20);
    expect(own.truncated).toBeUndefined();
    const few = await s.run('few');
    expect(few.count).toBe(3);
    expect(few.truncated).toBeUndefined();
  });
});

describe('params in SQLite', () => {
  it('spreads a list over IN (…), an empty list matching nothing (NOT IN: everything)', async () => {
    const s = await service(`
queries:
  some:
    description: tasks by id
    sql: SELECT id FROM tasks WHERE id IN (:ids) AND status NOT IN (:skip) ORDER BY id LIMIT 1000
    params: [{ name: ids, type: 'integer[]' }, { name: skip, type: 'string[]' }]
`);
    const ids = (r: { results: readonly Record<string, unknown>[] }) => r.results.map((x) => x.id);
    expect(ids(await s.run('some', { ids: '1,2,3' }))).toEqual([1, 2, 3]);
    expect(ids(await s.run('some', { ids: [5, 4] }))).toEqual([4, 5]);
    expect(ids(await s.run('some', { ids: [] }))).toEqual([]);
    const firstFive = data.tasks.slice(0, 5);
    const skip = firstFive[0].status;
    expect(ids(await s.run('some', { ids: firstFive.map((t) => t.id), skip }))).toEqual(
      firstFive.filter((t) => t.status !== skip).map((t) => t.id),
    );
  });

  it('binds booleans as 1/0 and timestamps as ISO text', async () => {
    const s = await service(`
queries:
  echo:
    description: values as SQLite sees them
    sql: SELECT :flag AS flag, :at AS at, datetime(:at) AS sqlite_at, typeof(:n) AS n_type
    params: [{ name: flag, type: boolean }, { name: at, type: timestamp }, { name: n, type: number }]
`);
    const r = await s.run('echo', { flag: 'true', at: '2024-05-01T14:00:00+02:00', n: '2.5' });
    expect(r.results).toEqual([
      { flag: 1, at: '2024-05-01T12:00:00.000Z', sqlite_at: '2024-05-01 12:00:00', n_type: 'real' },
    ]);
  });

  it('returns JSON-safe rows: big integers as text, blobs as base64', async () => {
    const s = await service(`
queries:
  odd:
    description: values JSON cannot carry as they are
    sql: SELECT 9007199254740993 AS big, -9007199254740991 AS edge, 42 AS small, x'01ff' AS blob, 1.5 AS real
    params: []
`);
    const r = await s.run('odd');
    expect(r.results).toEqual([
      { big: '9007199254740993', edge: -9007199254740991, small: 42, blob: 'Af8=', real: 1.5 },
    ]);
    expect(JSON.parse(JSON.stringify(r))).toEqual(r);
  });
});

describe('logging', () => {
  it('warns about a slow query by name with its duration, and counts it', async () => {
    const { logger, lines } = recordingLogger();
    // A threshold of 0 makes every run slow, so the test does not depend on the machine's speed.
    const yaml = `
queries:
  count_tasks: { description: count, sql: SELECT COUNT(*) AS n FROM tasks, params: [] }
optimization: { slow_query_threshold_ms: 0 }`;
    const s = await service(yaml, { logger });
    await s.run('count_tasks');
    const warn = lines.find((l) => l.level === 40);
    expect(warn).toMatchObject({ query: 'count_tasks', datasource: 'architect', thresholdMs: 0 });
    expect(typeof warn?.ms).toBe('number');
    expect(warn?.msg).toMatch(/^slow query 'count_tasks': [\d.]+ ms \(threshold 0 ms\)$/);
    expect(s.stats().count_tasks.slow).toBe(1);
  });

  it('logs every run at debug with enable_query_logging, and nothing when it is off', async () => {
    const on = recordingLogger();
    const yaml = (logging: boolean) => `
queries:
  count_tasks: { description: count, sql: SELECT COUNT(*) AS n FROM tasks, params: [], cache_ttl: 5 }
optimization: { enable_query_logging: ${logging}, slow_query_threshold_ms: 60000 }`;
    const s = await service(yaml(true), { logger: on.logger });
    await s.run('count_tasks');
    await s.run('count_tasks');
    expect(on.lines.map((l) => [l.level, l.query, l.cached])).toEqual([
      [20, 'count_tasks', undefined],
      [20, 'count_tasks', true],
    ]);
    expect(on.lines[0]).toMatchObject({ count: 1 });

    const off = recordingLogger();
    await (await service(yaml(false), { logger: off.logger })).run('count_tasks');
    expect(off.lines).toEqual([]);
  });
});

describe('list', () => {
  it('describes each query: description, datasource, params, cache_ttl, location', async () => {
    const s = await service(fixtureQueries());
    const list = s.list();
    expect(list).toHaveLength(13);
    expect(list[0]).toEqual({
      name: 'tasks_by_status',
      description: 'Get tasks filtered by status',
      datasource: 'architect',
      params: [
        {
          name: 'status',
          type: 'string',
          required: true,
          description: 'Task status (pending, in_progress, completed, failed)',
        },
        { name: 'limit', type: 'integer', default: 100, description: 'Maximum number of results' },
      ],
      cache_ttl: 10,
      location: AT,
    });
  });
});

describe('applyIndexes', () => {
  it('creates the declared indexes once, then reports them as existing', async () => {
    const s = await service(fixtureQueries());
    const names = fixtureQueries().indexes!.map((i) => i.name);
    const countIndexes = () => {
      const db = openSqlite(join(dir, DB), { readonly: true });
      try {
        return db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%'").all()
          .length;
      } finally {
        db.close();
      }
    };
    const before = countIndexes();
    const first = await s.applyIndexes();
    expect(first.created.length + first.existing.length).toBe(names.length);
    expect([...first.created, ...first.existing].sort()).toEqual([...names].sort());
    expect(countIndexes()).toBe(names.length);
    expect(before).toBeLessThanOrEqual(names.length);
    expect(await s.applyIndexes()).toEqual({ created: [], existing: names });
    // The read-only connection keeps working, with the new indexes.
    expect((await s.run('tasks_by_status', { status: 'pending' })).count).toBeGreaterThan(0);
  });

  it('refuses a missing column or table with the index file:line, and creates none of the batch', async () => {
    const where = {
      'queries.indexes[1]': { file: '/cfg/base/queries.yaml', line: 40, col: 5 },
      'queries.indexes[2]': { file: '/cfg/base/queries.yaml', line: 45, col: 5 },
    };
    const q = queries(`
queries:
  count_tasks: { description: count, sql: SELECT COUNT(*) AS n FROM tasks, params: [] }
indexes:
  - { table: tasks, name: idx_fine, columns: [type] }
  - { table: tasks, name: idx_bad_column, columns: [status, priorty] }
  - { table: taskz, name: idx_bad_table, columns: [id] }
`);
    const s = await createQueryService(view(dir, { queries: q, datasources: sqliteSource(DB) }, where), {
      logger: silent,
    });
    open.push(s);
    const err = await s.applyIndexes().then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    const diagnostics = (err as ConfigError).diagnostics;
    expect(diagnostics.map((d) => [d.line, d.path, d.message])).toEqual([
      [
        40,
        'queries.indexes[1]',
        "index 'idx_bad_column': table 'tasks' has no column 'priorty' (did you mean 'priority'?); its columns are: id, type, status, priority, created_at, assigned_to, completed_at, metadata",
      ],
      [
        45,
        'queries.indexes[2]',
        "index 'idx_bad_table': table 'taskz' does not exist in datasource 'architect'",
      ],
    ]);
    expect((err as Error).message).toMatch(/^\/cfg\/base\/queries\.yaml:40:5: error \[E_CONFIG_INVALID\]/);
    const db = openSqlite(join(dir, DB), { readonly: true });
    expect(db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'idx_fine'").get()).toBeUndefined();
    db.close();
  });
});

describe('reload and close', () => {
  it('swaps in a good configuration, and keeps the old one when the new one is bad', async () => {
    const s = await service(ONE_QUERY);
    const next = queries(`
queries:
  count_tasks: { description: count, sql: SELECT COUNT(*) AS n FROM tasks, params: [] }
`);
    await s.reload(view(dir, { queries: next, datasources: sqliteSource(DB) }));
    expect(s.list().map((q) => q.name)).toEqual(['count_tasks']);
    expect((await s.run('count_tasks')).results).toEqual([{ n: data.tasks.length }]);

    const bad = queries(`
queries:
  broken: { description: broken, sql: SELEC 1, params: [] }
`);
    await expect(s.reload(view(dir, { queries: bad, datasources: sqliteSource(DB) }))).rejects.toThrow(
      /query 'broken': near "SELEC": syntax error/,
    );
    expect(s.list().map((q) => q.name)).toEqual(['count_tasks']);
    expect((await s.run('count_tasks')).count).toBe(1);
  });

  it('refuses to run once closed', async () => {
    const s = await service(ONE_QUERY);
    await s.close();
    await expect(s.run('by_status', { status: 'x' })).rejects.toMatchObject({
      code: 'E_INVALID_STATE',
      message: 'the query service is closed; create a new one',
    });
    await s.close();
  });
});

describe('unknown query name', () => {
  it('is E_NOT_FOUND with a did-you-mean', async () => {
    const s = await service(fixtureQueries());
    const err = await s.run('task_by_status').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BatonError);
    expect(err).toMatchObject({
      code: 'E_NOT_FOUND',
      message:
        "no query named 'task_by_status' (did you mean 'tasks_by_status'?); `baton queries list` shows the 13 queries",
    });
  });
});
