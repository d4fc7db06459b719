// YAML workflows' steps that reach other systems: `database` on a real SQLite file, `http` against a
// real server on loopback, and the checks that refuse them at load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Store, Worker } from '@baton/core';
import { quietLogger } from '../../core/test/backends.js';
import { loadConfig } from '../src/config/load.js';
import { ConfigError } from '../src/config/diagnostics.js';
import { openSqlite } from '../src/queries/sqlite-driver.js';
import { createFlows, type Flows } from '../src/workflows/index.js';
import { configDir } from './config-helpers.js';

const DATASOURCES = (writable: boolean) =>
  `datasources:\n  app:\n    type: sqlite\n    path: app.db\n    writable: ${writable}\n`;

const WORKFLOWS = (port: number) => `settings:
  http_allowed_hosts: [127.0.0.1]
workflows:
  tickets:
    input: { title: string }
    steps:
      - id: create
        type: database
        action: insert
        table: tickets
        data: { title: '\${input.title}', status: open, tags: [a, b] }
      - id: close
        type: database
        action: update
        table: tickets
        data: { status: closed }
        where: { id: '\${steps.create.id}' }
      - id: read
        type: database
        action: select
        table: tickets
        where: { status: [closed, archived] }
  calls:
    steps:
      - id: ok
        type: http
        method: POST
        url: 'http://127.0.0.1:${port}/echo'
        headers: { authorization: 'Bearer secret-token' }
        body: { n: 1 }
      - id: broken
        type: http
        url: 'http://127.0.0.1:${port}/broken'
      - id: elsewhere
        type: http
        url: '\${"http://localhost:${port}/echo"}'
    error_handling:
      - { on_error: E_HTTP, action: continue }
      - { on_error: E_POLICY_DENIED, action: continue }
`;

describe('database and http steps', () => {
  let store: Store;
  let server: Server;
  let flows: Flows;
  let worker: Worker;
  let dir: string;
  const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
        if (req.url === '/broken') {
          res.writeHead(500).end('down');
          return;
        }
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ got: JSON.parse(body || 'null') }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    dir = configDir({ 'base/workflows.yaml': WORKFLOWS(port), 'base/datasources.yaml': DATASOURCES(true) });
    const db = openSqlite(join(dir, 'app.db'));
    db.exec(
      'CREATE TABLE tickets (id INTEGER PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL, tags TEXT)',
    );
    db.close();
    const config = await loadConfig(dir);
    store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    flows = await createFlows({ store, config: () => config, logger: quietLogger() });
    worker = new Worker(store, {
      workflows: [...flows.definitions],
      queues: ['flows'],
      pollInterval: 50,
      logger: quietLogger(),
    });
    await worker.start();
  });
  afterAll(async () => {
    await worker.stop({ deadline: 2000 });
    await flows.close();
    await store.close();
    server.close();
  });

  it('inserts a row and gets its id, updates it by that id, and selects with a list filter', async () => {
    const { id } = await flows.start('tickets', { title: 'printer on fire' });
    const out = await new Client(store).result<{ steps: Record<string, Record<string, unknown>> }>(id, {
      timeout: '20s',
    });
    expect(out.steps.create).toEqual({ id: 1, title: 'printer on fire', status: 'open', tags: '["a","b"]' });
    expect(out.steps.close).toMatchObject({ id: 1, status: 'closed', count: 1 });
    expect(out.steps.read).toMatchObject({ title: 'printer on fire', count: 1 });
    const db = openSqlite(join(dir, 'app.db'), { readonly: true });
    expect(db.prepare('SELECT status FROM tickets').all()).toEqual([{ status: 'closed' }]);
    db.close();
  });

  it('sends requests to allowed hosts only, records responses but not headers, and fails on a bad status', async () => {
    seen.length = 0;
    const { id } = await flows.start('calls');
    const client = new Client(store);
    const out = await client.result<{ steps: Record<string, unknown> }>(id, { timeout: '20s' });
    expect(out.steps.ok).toEqual({ status: 200, content_type: 'application/json', body: { got: { n: 1 } } });
    expect(out.steps.broken).toMatchObject({
      error: { code: 'E_HTTP', message: expect.stringMatching(/answered 500/) },
    });
    expect(out.steps.elsewhere).toMatchObject({
      error: {
        code: 'E_POLICY_DENIED',
        message: expect.stringMatching(/host 'localhost' is not in settings.http_allowed_hosts/),
      },
    });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['POST /echo', 'GET /broken']);
    expect(seen[0]!.auth).toBe('Bearer secret-token');
    const history = JSON.stringify((await client.describe(id)).history);
    expect(history).not.toContain('secret-token');
  });

  it('refuses at load a write to a datasource that is not writable, an update without where and an unknown query', async () => {
    const bad = configDir({
      'base/datasources.yaml': DATASOURCES(false),
      'base/workflows.yaml': `workflows:
  w:
    steps:
      - { id: a, type: database, action: insert, table: t, data: { x: 1 } }
      - { id: b, type: database, action: delete, table: t }
      - { id: c, type: query, query: tasks_by_idd }
`,
    });
    const err = await loadConfig(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^4:42 a database insert writes, and datasource 'app' is not writable/),
        expect.stringMatching(/^5:42 a database delete needs where/),
        expect.stringMatching(/^6:38 no named query 'tasks_by_idd'/),
      ]),
    );
  });
});
