// Named queries and the configuration over HTTP, on a real configuration directory whose queries
// run on the Baton store itself (PGlite, and PostgreSQL when BATON_PG_URL is set): typed params,
// injection attempts that stay data, secrets masked, roles, and a reload that refuses a bad edit.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Store, defineJob } from '@baton/core';
import { quietLogger } from '../../core/test/backends.js';
import { BACKENDS } from './stores.js';
import { ApiKeys, startServer, type RunningServer } from '../src/index.js';

const FIXTURE = fileURLToPath(new URL('../../../examples/architect/baton/base/', import.meta.url));
const SECRET = 'sk-ant-test-7f3a9c2e1b';

const QUERIES = `
version: '1.0'
queries:
  executions_by_status:
    description: Executions in one status, newest first
    sql: |
      SELECT id, name, status::text AS status FROM baton.executions
      WHERE status::text = :status ORDER BY id DESC LIMIT :limit
    params:
      - { name: status, type: string, required: true }
      - { name: limit, type: integer, default: 10 }
  executions_named:
    description: Executions of some names
    sql: SELECT id, name FROM baton.executions WHERE name IN (:names) ORDER BY id
    params:
      - { name: names, type: 'string[]', required: true }
`;

const task = defineJob('cfg.task', {}, async () => 'ok');

describe.each(BACKENDS)('named queries and configuration on $name', (backend) => {
  let store: Store;
  let server: RunningServer;
  let dir: string;
  const saved = process.env.ANTHROPIC_API_KEY;

  const get = async (path: string, key?: string, method = 'GET') => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: key ? { authorization: `Bearer ${key}` } : {},
    });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(async () => {
    process.env.ANTHROPIC_API_KEY = SECRET;
    dir = mkdtempSync(join(tmpdir(), 'baton-server-config-'));
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base', 'datasources.yaml'), 'datasources:\n  own:\n    type: baton\n');
    writeFileSync(join(dir, 'base', 'queries.yaml'), QUERIES);
    copyFileSync(join(FIXTURE, 'llm_providers.yaml'), join(dir, 'base', 'llm_providers.yaml'));
    store = await backend.open();
    await store.migrate();
    const client = new Client(store, [task]);
    for (let i = 0; i < 3; i++) await client.enqueue(task, {});
    server = await startServer({ store, logger: quietLogger(), port: 0, configDir: dir });
  });

  afterAll(async () => {
    if (saved === undefined) delete process.env.ANTHROPIC_API_KEY;
    else process.env.ANTHROPIC_API_KEY = saved;
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the queries with their typed params and runs one with params from the query string', async () => {
    const list = await get('/api/queries');
    expect(list.status).toBe(200);
    expect(list.body.items.map((q: { name: string }) => q.name)).toEqual([
      'executions_by_status',
      'executions_named',
    ]);
    expect(list.body.items[0].params).toEqual([
      { name: 'status', type: 'string', required: true },
      { name: 'limit', type: 'integer', required: false, default: 10 },
    ]);

    const r = await get('/api/query/executions_by_status?status=queued&limit=2');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ query: 'executions_by_status', count: 2 });
    expect(r.body.results[0]).toMatchObject({ name: 'cfg.task', status: 'queued' });
    const named = await get('/api/query/executions_named?names=cfg.task,other');
    expect(named.body.count).toBe(3);
  });

  it('refuses bad params with the reason, and keeps injection attempts as data', async () => {
    const missing = await get('/api/query/executions_by_status');
    expect(missing.status).toBe(400);
    expect(missing.body.error.message).toMatch(/status/);
    expect((await get('/api/query/executions_by_status?status=queued&limit=ten')).status).toBe(400);
    expect((await get('/api/query/executions_by_status?status=queued&extra=1')).status).toBe(400);
    const twice = await get('/api/query/executions_by_status?status=queued&status=failed');
    expect(twice.body.error.message).toContain('comma-separated');
    const unknown = await get('/api/query/executions_by_stats?status=queued');
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toContain('executions_by_status');

    for (const attack of [
      "queued' OR '1'='1",
      "queued'; DROP TABLE baton.executions; --",
      'queued) OR (1=1',
    ]) {
      const r = await get(`/api/query/executions_by_status?status=${encodeURIComponent(attack)}`);
      expect(r.status, attack).toBe(200);
      expect(r.body.count, attack).toBe(0);
    }
    const names = await get(`/api/query/executions_named?names=${encodeURIComponent("x') OR ('1'='1")}`);
    expect(names.body.count).toBe(0);
    // The table is still there, with its rows.
    expect((await get('/api/query/executions_by_status?status=queued')).body.count).toBe(3);
  });

  it('shows the configuration with secrets masked, and explains where a value came from', async () => {
    const shown = await get('/api/config');
    expect(shown.status).toBe(200);
    expect(shown.body.files).toEqual([
      'base/datasources.yaml',
      'base/llm_providers.yaml',
      'base/queries.yaml',
    ]);
    expect(shown.body.hash).toMatch(/^sha256:/);
    const text = JSON.stringify(shown.body);
    expect(text).not.toContain(SECRET);
    expect(JSON.stringify((await get('/api/config?path=llm_providers')).body)).not.toContain(SECRET);
    const explained = await get('/api/config/explain?path=queries.queries.executions_by_status.params');
    expect(explained.status).toBe(200);
    expect(explained.body.items[0].setBy).toMatchObject({
      file: 'base/queries.yaml',
      line: expect.any(Number),
    });
    expect(JSON.stringify((await get('/api/config/explain')).body)).not.toContain(SECRET);
  });

  it('validates and reloads from disk; a bad edit is refused with file:line and the running one stays', async () => {
    expect((await get('/api/config/validate', undefined, 'POST')).body).toMatchObject({ valid: true });
    const same = await get('/api/config/reload', undefined, 'POST');
    expect(same.body.changed).toBe(false);

    writeFileSync(join(dir, 'base', 'queries.yaml'), QUERIES.replace('type: integer', 'type: intger'));
    const bad = await get('/api/config/validate', undefined, 'POST');
    expect(bad.status).toBe(422);
    expect(bad.body.error.code).toBe('E_CONFIG_INVALID');
    expect(
      bad.body.error.details.diagnostics.find((d: { severity: string }) => d.severity === 'error'),
    ).toMatchObject({ file: 'base/queries.yaml', line: 11 });
    const refused = await get('/api/config/reload', undefined, 'POST');
    expect(refused.status).toBe(422);
    expect((await get('/api/query/executions_by_status?status=queued&limit=1')).body.count).toBe(1);

    writeFileSync(
      join(dir, 'base', 'queries.yaml'),
      QUERIES.replace('ORDER BY id DESC LIMIT :limit', 'ORDER BY id LIMIT :limit').replace(
        'Executions in one status, newest first',
        'Executions in one status, oldest first',
      ),
    );
    const applied = await get('/api/config/reload', undefined, 'POST');
    expect(applied.status).toBe(200);
    expect(applied.body.changed).toBe(true);
    expect((await get('/api/queries')).body.items[0].description).toBe(
      'Executions in one status, oldest first',
    );
  });

  it('lets viewers run queries and only admins see or change the configuration', async () => {
    const keys = new ApiKeys(store.driver);
    const viewer = (await keys.create('viewer')).key;
    const operator = (await keys.create('operator')).key;
    const admin = (await keys.create('admin')).key;
    await new Promise((r) => setTimeout(r, 2100)); // the server re-reads whether keys exist every 2 s
    expect((await get('/api/query/executions_by_status?status=queued', viewer)).status).toBe(200);
    for (const [path, method] of [
      ['/api/config', 'GET'],
      ['/api/config/explain', 'GET'],
      ['/api/config/validate', 'POST'],
      ['/api/config/reload', 'POST'],
    ] as const) {
      expect((await get(path, viewer, method)).status, `${method} ${path}`).toBe(403);
      expect((await get(path, operator, method)).status, `${method} ${path}`).toBe(403);
      const r = await get(path, admin, method);
      expect(r.status, `${method} ${path}: ${JSON.stringify(r.body).slice(0, 300)}`).toBe(200);
    }
  });
});

describe('a server without a configuration directory', () => {
  it('answers the queries and config routes with 404 and how to give one; refuses an invalid one at start', async () => {
    const store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    const server = await startServer({ store, logger: quietLogger(), port: 0 });
    try {
      const r = await fetch(`${server.url}/api/queries`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain('--config-dir');
      // The dashboard's settings are the seed's without a ui_config.yaml.
      const ui = (await (await fetch(`${server.url}/api/ui`)).json()) as {
        dashboard_panels: { id: string; title: string }[];
        theme: { colors: { status: Record<string, string> } };
        table_configs: { tasks: { page_size: number } };
      };
      expect(ui.dashboard_panels.map((p) => p.title)).toEqual([
        'Projects',
        'Task Queue',
        'Claude Sessions',
        'Error Aggregation',
      ]);
      expect(ui.theme.colors.status.in_progress).toBe('#ffc107');
      expect(ui.table_configs.tasks.page_size).toBe(50);
      const bad = mkdtempSync(join(tmpdir(), 'baton-server-badcfg-'));
      mkdirSync(join(bad, 'base'));
      writeFileSync(join(bad, 'base', 'queries.yaml'), 'queries:\n  q:\n    sql: 42\n');
      await expect(startServer({ store, logger: quietLogger(), port: 0, configDir: bad })).rejects.toThrow(
        /queries\.yaml:\d+:\d+/,
      );
      rmSync(bad, { recursive: true, force: true });
    } finally {
      await server.close();
      await store.close();
    }
  });
});
