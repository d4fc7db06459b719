// Bad input to the named queries, each with a clear error: at load (SQL that does not prepare,
// writes, params that do not match the SQL, datasources that do not resolve) and at run (types,
// required params, unknown names, injection attempts that stay data).
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { join } from 'node:path';
import { BatonError } from '@baton/core';
import { ConfigError } from '../src/config/diagnostics.js';
import { datasourcesSchema } from '../src/config/kinds/datasources.js';
import type { ConfigView } from '../src/config/types.js';
import { createQueryService, type QueryService } from '../src/queries/index.js';
import { openSqlite } from '../src/queries/sqlite-driver.js';
import { makeArchitectDb, type ArchitectData } from '../../../examples/architect/make-db.js';
import { fixtureQueries, queries, silent, sqliteSource, tempDir, view } from './queries-helpers.js';
import { configDir, removeDir } from './config-helpers.js';
import { loadConfig } from '../src/config/load.js';

let dir: string;
let remove: () => void;
let data: ArchitectData;
let fixture: QueryService;
const DB = 'architect.db';

beforeAll(async () => {
  ({ dir, remove } = tempDir());
  data = makeArchitectDb(join(dir, DB));
  fixture = await createQueryService(
    view(dir, { queries: fixtureQueries(), datasources: sqliteSource(DB) }),
    {
      logger: silent,
    },
  );
});

afterAll(async () => {
  await fixture.close();
  remove();
});

/** The error createQueryService throws for `config` (failing the test if it loads). */
async function loadError(config: ConfigView): Promise<ConfigError> {
  const err = await createQueryService(config, { logger: silent }).then(
    async (s) => {
      await s.close();
      return undefined;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(ConfigError);
  return err as ConfigError;
}

/** The messages of loading `yaml` (queries.yaml) on the example database. */
async function loadMessages(yaml: string): Promise<string[]> {
  const err = await loadError(view(dir, { queries: queries(yaml), datasources: sqliteSource(DB) }));
  return err.diagnostics.map((d) => d.message);
}

async function runError(name: string, params?: Record<string, unknown>): Promise<BatonError> {
  const err = await fixture.run(name, params).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(BatonError);
  return err as BatonError;
}

describe('SQL checked at load', () => {
  it('reports a syntax error with the query name and its file:line', async () => {
    const where = { 'queries.queries.broken': { file: '/cfg/base/queries.yaml', line: 21, col: 3 } };
    const q = queries(`
queries:
  broken: { description: broken, sql: "SELEC id FROM tasks", params: [] }
`);
    const err = await loadError(view(dir, { queries: q, datasources: sqliteSource(DB) }, where));
    expect(err.code).toBe('E_CONFIG_INVALID');
    expect(err.message).toBe(
      `/cfg/base/queries.yaml:21:3: error [E_CONFIG_INVALID] queries.queries.broken.sql: query 'broken': near "SELEC": syntax error`,
    );
  });

  it('reports every problem at once: unknown table, unknown column, and the rest', async () => {
    expect(
      await loadMessages(`
queries:
  good: { description: fine, sql: SELECT id FROM tasks LIMIT 1, params: [] }
  no_table: { description: x, sql: SELECT id FROM taskz, params: [] }
  no_column: { description: x, sql: SELECT nope FROM tasks, params: [] }
  two: { description: x, sql: "SELECT 1; SELECT 2", params: [] }
  positional: { description: x, sql: "SELECT id FROM tasks WHERE id = ?", params: [] }
`),
    ).toEqual([
      "query 'two': its sql holds 2 statements; a named query is one statement",
      "query 'positional': its sql uses the placeholder '?'; write parameters as :name and declare them under params",
      "query 'no_table': no such table: taskz",
      "query 'no_column': no such column: nope",
    ]);
  });

  it('refuses statements that write', async () => {
    expect(
      await loadMessages(`
queries:
  del: { description: x, sql: DELETE FROM tasks, params: [] }
  upd: { description: x, sql: "UPDATE tasks SET status = 'x'", params: [] }
  ins: { description: x, sql: "INSERT INTO projects (name, status, created_at) VALUES ('p', 'active', 'now') RETURNING id", params: [] }
  drop: { description: x, sql: DROP TABLE tasks, params: [] }
`),
    ).toEqual(
      ['del', 'upd', 'ins', 'drop'].map(
        (n) =>
          `query '${n}': it is not a read-only statement that returns rows; named queries only read (SELECT, WITH …)`,
      ),
    );
  });

  it('refuses a param the SQL uses but does not declare, and one declared but unused', async () => {
    expect(
      await loadMessages(`
queries:
  undeclared:
    description: x
    sql: SELECT id FROM tasks WHERE status = :status AND priority > :min_priorty
    params: [{ name: status, type: string }, { name: min_priority, type: integer }]
  unused:
    description: x
    sql: SELECT id FROM tasks LIMIT 5
    params: [{ name: status, type: string }]
  list_outside_in:
    description: x
    sql: SELECT id FROM tasks WHERE id = :ids
    params: [{ name: ids, type: 'integer[]' }]
  bad_default:
    description: x
    sql: SELECT id FROM tasks LIMIT :n
    params: [{ name: n, type: integer, default: ten }]
`),
    ).toEqual([
      "query 'undeclared': its sql uses :min_priorty, which is not declared under params (did you mean :min_priority?)",
      "query 'undeclared': param 'min_priority' is declared but its sql does not use it; write :min_priority in the sql or remove the param",
      "query 'unused': param 'status' is declared but its sql does not use it; write :status in the sql or remove the param",
      "query 'list_outside_in': param 'ids' is a list (integer[]); in SQLite write it as IN (:ids) or NOT IN (:ids)",
      "query 'bad_default': the default of param 'n' must be an integer, got 'ten'",
    ]);
  });

  it('refuses a param declared twice (schema)', () => {
    const parsed = fixtureQueries();
    const params = [...parsed.queries.tasks_by_status.params, { name: 'status', type: 'string' }];
    expect(() =>
      queries({ ...parsed, queries: { q: { ...parsed.queries.tasks_by_status, params } } }),
    ).toThrow(/param 'status' is declared twice/);
  });
});

describe('datasources checked at load', () => {
  const count = queries(
    `queries: { n: { description: x, sql: SELECT COUNT(*) AS n FROM tasks, params: [] } }`,
  );
  const sources = (value: unknown) => datasourcesSchema.parse(value);

  it('an unknown datasource, with a did-you-mean', async () => {
    const q = queries(`queries: { n: { description: x, sql: SELECT 1, params: [], datasource: architec } }`);
    const err = await loadError(view(dir, { queries: q, datasources: sqliteSource(DB) }));
    expect(err.diagnostics.map((d) => [d.path, d.message])).toEqual([
      [
        'queries.queries.n.datasource',
        "query 'n': datasource 'architec' is not declared in datasources.yaml (did you mean 'architect'?); declared: architect",
      ],
    ]);
  });

  it('an unknown default_datasource; none declared; several and no default', async () => {
    const two = { a: { type: 'sqlite', path: DB }, b: { type: 'sqlite', path: DB } };
    expect(
      (
        await loadError(
          view(dir, {
            queries: count,
            datasources: sources({ default_datasource: 'main', datasources: two }),
          }),
        )
      ).message,
    ).toMatch(/default_datasource: datasource 'main' is not declared in datasources.yaml; declared: a, b/);
    expect((await loadError(view(dir, { queries: count }))).message).toMatch(
      /query 'n' needs a datasource and none is declared: add datasources.yaml/,
    );
    expect(
      (await loadError(view(dir, { queries: count, datasources: sources({ datasources: two }) }))).message,
    ).toMatch(
      /query 'n' names no datasource and several are declared \(a, b\): set datasource: on it, or default_datasource/,
    );
  });

  it('a SQLite file that does not exist (a relative path resolves against the config directory)', async () => {
    const err = await loadError(view(dir, { queries: count, datasources: sqliteSource('missing/x.db') }));
    expect(err.diagnostics[0]).toMatchObject({
      path: 'datasources.datasources.architect',
      message: `datasource 'architect': the SQLite file ${join(dir, 'missing/x.db')} does not exist; create it or correct path (relative to ${dir})`,
    });
  });

  it('a postgres url left null by an unset variable; a baton datasource without a store', async () => {
    const pgNull = sources({ datasources: { reports: { type: 'postgres', url: null } } });
    expect((await loadError(view(dir, { queries: count, datasources: pgNull }))).diagnostics[0].message).toBe(
      "datasource 'reports' has no url: the environment variable it refers to is not set; set it and restart",
    );
    // Through the loader, the message names the variable.
    const cfg = configDir({
      'base/datasources.yaml': 'datasources:\n  reports:\n    type: postgres\n    url: ${REPORTS_DB_URL}\n',
      'base/queries.yaml':
        'queries:\n  one:\n    description: one\n    sql: SELECT 1 AS one\n    params: []\n',
    });
    try {
      const loaded = await loadConfig(cfg, { env: {} });
      expect((await loadError(loaded)).diagnostics[0]).toMatchObject({
        file: join(cfg, 'base/datasources.yaml'),
        message: "datasource 'reports' has no url: REPORTS_DB_URL is not set; set it and restart",
      });
    } finally {
      removeDir(cfg);
    }
    const store = sources({ datasources: { own: { type: 'baton' } } });
    expect((await loadError(view(dir, { queries: count, datasources: store }))).diagnostics[0].message).toBe(
      "datasource 'own' is Baton's own store (type: baton), but no store was given: pass { store } to createQueryService",
    );
  });
});

describe('params checked at run', () => {
  it('a LIMIT param that would lift the bound: negative, or null', async () => {
    expect(await runError('tasks_by_status', { status: 'pending', limit: '-1' })).toMatchObject({
      code: 'E_INPUT_INVALID',
      message:
        "query 'tasks_by_status': param 'limit' bounds the result (LIMIT/OFFSET), so it must be a whole number of 0 or more, got -1",
    });
    const r = await fixture.run('tasks_by_status', { status: 'pending', limit: '0' });
    expect(r.count).toBe(0);
  });

  it('SQLite placeholders written by hand (@x, $x, ?1) are refused at load', async () => {
    for (const p of ['@status', '$status', '?1']) {
      const messages = await loadMessages(
        `queries:\n  q:\n    description: d\n    sql: "SELECT id FROM tasks WHERE status = ${p}"\n    params: []\n`,
      );
      expect(messages.join('\n')).toContain(`its sql uses the placeholder '${p.startsWith('?') ? '?' : p}'`);
    }
  });

  it('a type mismatch', async () => {
    const err = await runError('tasks_by_status', { status: 'pending', limit: 'ten' });
    expect(err).toMatchObject({
      code: 'E_INPUT_INVALID',
      message: "query 'tasks_by_status': param 'limit' must be an integer, got 'ten'",
    });
    expect((await runError('tasks_by_status', { status: 5 })).message).toBe(
      "query 'tasks_by_status': param 'status' must be a string, got the number 5",
    );
  });

  it('a missing required param', async () => {
    expect(await runError('tasks_by_type_and_status', { status: 'pending' })).toMatchObject({
      code: 'E_INPUT_INVALID',
      message: "query 'tasks_by_type_and_status': param 'task_type' (string) is required but was not given",
    });
  });

  it('an undeclared param, with a did-you-mean', async () => {
    expect(await runError('tasks_by_status', { status: 'pending', limt: 3 })).toMatchObject({
      code: 'E_INPUT_INVALID',
      message:
        "query 'tasks_by_status' has no param 'limt' (did you mean 'limit'?); its params are: status, limit",
    });
  });

  it('an unknown query name, with a did-you-mean', async () => {
    expect((await runError('sessions_activ')).message).toMatch(
      /^no query named 'sessions_activ' \(did you mean 'sessions_active'\?\)/,
    );
  });

  it('SQL injection through a param stays data: no rows, the table intact', async () => {
    for (const status of [
      "'; DROP TABLE tasks; --",
      "x' OR '1'='1",
      "pending' --",
      'pending; DELETE FROM tasks',
    ]) {
      const r = await fixture.run('tasks_by_status', { status });
      expect(r.count).toBe(0);
    }
    const injectedList = await fixture.run('sessions_idle', { excluded_sessions: "') OR 1=1 --" });
    expect(injectedList.count).toBe(Math.min(20, data.sessions.filter((s) => s.status === 'idle').length));
    const db = openSqlite(join(dir, DB), { readonly: true });
    expect(db.prepare('SELECT COUNT(*) AS n FROM tasks').get()).toEqual({ n: data.tasks.length });
    db.close();
  });
});
