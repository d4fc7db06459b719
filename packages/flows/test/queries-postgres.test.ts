// Named queries on PostgreSQL: Baton's own store (PGlite always, the server when BATON_PG_URL is
// set) and a `type: postgres` datasource (BATON_PG_URL only). Each PostgreSQL case gets a throwaway
// database, dropped at the end.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import pg from 'pg';
import { BatonError, Store } from '@baton/core';
import { ConfigError } from '../src/config/diagnostics.js';
import { datasourcesSchema, type DatasourcesConfig } from '../src/config/kinds/datasources.js';
import { createQueryService, type QueryService } from '../src/queries/index.js';
import { queries, silent, view } from './queries-helpers.js';

const PG_URL = process.env.BATON_PG_URL;

/** A database of its own on the test server; returns its URL and how to drop it. */
async function throwawayDatabase(): Promise<{ url: string; drop: () => Promise<void> }> {
  const prefix = process.env.BATON_TEST_DB_PREFIX ?? 'baton_t_adhoc';
  const name = `${prefix}_q_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const admin = async (sql: string) => {
    const client = new pg.Client({ connectionString: PG_URL });
    await client.connect();
    try {
      await client.query(sql);
    } finally {
      await client.end();
    }
  };
  await admin(`CREATE DATABASE ${name}`);
  const url = new URL(PG_URL!);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

interface Backend {
  name: string;
  /** True when statement_timeout cancels a statement (a server; PGlite runs single-threaded, without timers). */
  timeouts: boolean;
  setup(): Promise<{
    datasources: DatasourcesConfig;
    store?: Store;
    exec: (sql: string) => Promise<Record<string, unknown>[]>;
    teardown: () => Promise<void>;
  }>;
}

const backends: Backend[] = [
  {
    name: 'baton store on PGlite',
    timeouts: false,
    async setup() {
      const store = await Store.open({ dataDir: 'memory://', logger: silent });
      await store.migrate();
      return {
        datasources: datasourcesSchema.parse({ datasources: { own: { type: 'baton' } } }),
        store,
        exec: (sql) => store.driver.query(sql),
        teardown: () => store.close(),
      };
    },
  },
];
if (PG_URL) {
  backends.push(
    {
      name: 'baton store on the PostgreSQL server',
      timeouts: true,
      async setup() {
        const db = await throwawayDatabase();
        const store = await Store.open({ databaseUrl: db.url, logger: silent });
        await store.migrate();
        return {
          datasources: datasourcesSchema.parse({ datasources: { own: { type: 'baton' } } }),
          store,
          exec: (sql) => store.driver.query(sql),
          teardown: async () => {
            await store.close();
            await db.drop();
          },
        };
      },
    },
    {
      name: 'postgres datasource',
      timeouts: true,
      async setup() {
        const db = await throwawayDatabase();
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        return {
          datasources: datasourcesSchema.parse({
            datasources: { reports: { type: 'postgres', url: db.url } },
          }),
          exec: async (sql) => (await client.query(sql)).rows as Record<string, unknown>[],
          teardown: async () => {
            await client.end();
            await db.drop();
          },
        };
      },
    },
  );
}

const QUERIES = `
queries:
  by_ids:
    description: rows by id, some names left out
    sql: SELECT id, name FROM t WHERE id IN (:ids) AND name NOT IN (:skip) ORDER BY id LIMIT 100
    params: [{ name: ids, type: 'integer[]', required: true }, { name: skip, type: 'string[]' }]
  by_name:
    description: rows by name
    sql: SELECT id FROM t WHERE name = :name ORDER BY id LIMIT 100
    params: [{ name: name, type: string, required: true }]
  tricky:
    description: colons that are not params
    sql: |
      SELECT id::text AS id_text, $$ :not_a_param $$ AS dollar, 'it''s :no' AS quoted, E'\\' :no' AS escaped
      -- :nor_this
      FROM t WHERE id = :id::int
    params: [{ name: id, type: integer, required: true }]
  values:
    description: values JSON cannot carry as they are
    sql: SELECT big, data, at FROM t WHERE id = 1
    params: []
  everything:
    description: no LIMIT, capped
    sql: SELECT id FROM t ORDER BY id
    params: []
  sneaky_write:
    description: a writing CTE passes the keyword check but not READ ONLY
    sql: WITH d AS (DELETE FROM t WHERE id = :id RETURNING id) SELECT id FROM d LIMIT 5
    params: [{ name: id, type: integer }]
  slow:
    description: sleeps
    sql: SELECT pg_sleep(:seconds) AS slept
    params: [{ name: seconds, type: number }]
    statement_timeout_ms: 100
optimization:
  max_results_without_limit: 10
`;

for (const backend of backends) {
  describe(`named queries: ${backend.name}`, () => {
    let env: Awaited<ReturnType<Backend['setup']>>;
    let service: QueryService;
    const config = (yaml: string) => view('/cfg', { queries: queries(yaml), datasources: env.datasources });

    beforeAll(async () => {
      env = await backend.setup();
      await env.exec(
        `CREATE TABLE t (id int PRIMARY KEY, name text, big bigint, data bytea, at timestamptz)`,
      );
      await env.exec(
        `INSERT INTO t SELECT g, 'n' || g, g * 10000000000000000, '\\x01ff', '2024-05-01T12:00:00Z' FROM generate_series(1, 50) g`,
      );
      service = await createQueryService(config(QUERIES), { store: env.store, logger: silent });
    });

    afterAll(async () => {
      await service?.close();
      await env?.teardown();
    });

    const ids = (r: { results: readonly Record<string, unknown>[] }) => r.results.map((x) => x.id);

    it('binds a list as one array: IN (:x) as = ANY, NOT IN (:x) as <> ALL, empty lists included', async () => {
      expect(ids(await service.run('by_ids', { ids: '1,2,3,40' }))).toEqual([1, 2, 3, 40]);
      expect(ids(await service.run('by_ids', { ids: [1, 2, 3], skip: 'n2' }))).toEqual([1, 3]);
      expect(ids(await service.run('by_ids', { ids: [] }))).toEqual([]);
    });

    it('leaves casts, dollar quotes, literals and comments alone', async () => {
      expect((await service.run('tricky', { id: '7' })).results).toEqual([
        { id_text: '7', dollar: ' :not_a_param ', quoted: "it's :no", escaped: "' :no" },
      ]);
    });

    it('returns JSON-safe rows: int8 as text, bytea as base64, timestamps as ISO text', async () => {
      expect((await service.run('values')).results).toEqual([
        { big: '10000000000000000', data: 'Af8=', at: '2024-05-01T12:00:00.000Z' },
      ]);
    });

    it('caps a query without LIMIT through a cursor', async () => {
      const r = await service.run('everything');
      expect(r).toMatchObject({ count: 10, truncated: true });
      expect(ids(r)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    });

    it('a reload lets the runs in flight on the old datasources finish', async () => {
      if (!backend.timeouts) return; // PGlite runs one statement at a time: nothing is in flight beside a reload
      const own = await createQueryService(
        config(QUERIES.replace('statement_timeout_ms: 100', 'statement_timeout_ms: 5000')),
        {
          store: env.store,
          logger: silent,
        },
      );
      try {
        // More runs than the pool has connections: some wait in its queue while the reload happens.
        const slow = Promise.all(Array.from({ length: 16 }, () => own.run('slow', { seconds: '0.3' })));
        await new Promise((r) => setTimeout(r, 50));
        await own.reload(config(QUERIES));
        expect((await slow).map((r) => r.count)).toEqual(Array(16).fill(1));
        expect((await own.run('by_name', { name: 'n1' })).results).toEqual([{ id: 1 }]);
      } finally {
        await own.close();
      }
    });

    it('keeps an injection attempt as data', async () => {
      for (const name of ["'; DROP TABLE t; --", "x' OR '1'='1", 'n1; DELETE FROM t']) {
        expect((await service.run('by_name', { name })).count).toBe(0);
      }
      expect(await env.exec('SELECT COUNT(*)::int AS n FROM t')).toEqual([{ n: 50 }]);
    });

    it('refuses a write at run time through the READ ONLY transaction', async () => {
      const err = await service.run('sneaky_write', { id: 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(BatonError);
      expect(err).toMatchObject({ code: 'E_CONFIG_INVALID' });
      expect((err as Error).message).toMatch(
        /^query 'sneaky_write' failed on datasource '\w+': cannot execute (SELECT|DELETE) in a read-only transaction; named queries only read$/,
      );
      expect(await env.exec('SELECT COUNT(*)::int AS n FROM t')).toEqual([{ n: 50 }]);
    });

    it.skipIf(!backend.timeouts)('cancels a run at its statement_timeout', async () => {
      const err = await service.run('slow', { seconds: 2 }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'E_TIMEOUT' });
      expect((err as Error).message).toMatch(
        /canceling statement due to statement timeout; add a LIMIT or an index, or raise statement_timeout_ms/,
      );
      // The pool recovers: the next run works.
      expect((await service.run('by_name', { name: 'n5' })).results).toEqual([{ id: 5 }]);
    });

    it('reports SQL that does not prepare, and writes, at load with the query names', async () => {
      const err = await createQueryService(
        config(`
queries:
  no_column: { description: x, sql: SELECT nope FROM t, params: [] }
  no_table: { description: x, sql: SELECT id FROM tt, params: [] }
  syntax: { description: x, sql: SELEC 1, params: [] }
  delete: { description: x, sql: DELETE FROM t, params: [] }
  fine: { description: x, sql: SELECT id FROM t WHERE id = :id, params: [{ name: id, type: integer }] }
`),
        { store: env.store, logger: silent },
      ).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).diagnostics.map((d) => d.message)).toEqual([
        `query 'no_column': column "nope" does not exist`,
        `query 'no_table': relation "tt" does not exist`,
        `query 'syntax': syntax error at or near "SELEC"`,
        "query 'delete': a DELETE statement may write; named queries only read (SELECT, WITH, VALUES, TABLE, SHOW, EXPLAIN)",
      ]);
      // The failed checks left nothing behind: the table and the service still work.
      expect((await service.run('by_name', { name: 'n5' })).count).toBe(1);
    });

    it('creates declared indexes on a postgres datasource; refuses them on the store', async () => {
      const yaml = `
queries:
  by_name: { description: x, sql: SELECT id FROM t WHERE name = :name, params: [{ name: name, type: string }] }
indexes:
  - { table: t, name: idx_t_name, columns: [name] }
`;
      const s = await createQueryService(config(yaml), { store: env.store, logger: silent });
      try {
        if (env.store) {
          await expect(s.applyIndexes()).rejects.toThrow(
            /datasource 'own' is Baton's own store, whose schema its migrations manage/,
          );
          return;
        }
        expect(await s.applyIndexes()).toEqual({ created: ['idx_t_name'], existing: [] });
        expect(await s.applyIndexes()).toEqual({ created: [], existing: ['idx_t_name'] });
        expect(
          await env.exec(
            "SELECT indexname FROM pg_indexes WHERE tablename = 't' AND indexname = 'idx_t_name'",
          ),
        ).toHaveLength(1);
      } finally {
        await s.close();
      }
      const bad = await createQueryService(config(yaml.replace('columns: [name]', 'columns: [nmae]')), {
        logger: silent,
      });
      try {
        await expect(bad.applyIndexes()).rejects.toThrow(
          "index 'idx_t_name': table 't' has no column 'nmae' (did you mean 'name'?); its columns are: id, name, big, data, at",
        );
      } finally {
        await bad.close();
      }
    });
  });
}

describe.skipIf(!PG_URL)('postgres datasource: connection problems', () => {
  it('a database that cannot be reached ends the load with E_DATABASE_UNAVAILABLE naming the datasource', async () => {
    const datasources = datasourcesSchema.parse({
      datasources: { reports: { type: 'postgres', url: 'postgres://postgres@127.0.0.1:1/none' } },
    });
    const q = queries(`queries: { n: { description: x, sql: SELECT 1 AS n, params: [] } }`);
    const err = await createQueryService(view('/cfg', { queries: q, datasources }), { logger: silent }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ code: 'E_DATABASE_UNAVAILABLE' });
    expect((err as Error).message).toMatch(
      /^datasource 'reports' \(\/cfg\/base\/queries.yaml:12:3\) cannot be reached to check its queries: .*ECONNREFUSED/,
    );
  });
});
