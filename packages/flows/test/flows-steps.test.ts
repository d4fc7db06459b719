// YAML workflows' steps that reach other systems: `database` on a real SQLite file, `http` and the
// `webhook` notification channel against a real server on loopback, and the checks that refuse
// them at load.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { Client, Store, Worker } from '@baton/core';
import { quietLogger } from '../../core/test/backends.js';
import { recordingLogger } from './queries-helpers.js';
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
  purge:
    input: { title: string }
    steps:
      - id: drop
        type: database
        action: delete
        table: tickets
        where: { title: '\${input.title}' }
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
  slow_call:
    steps:
      - { id: slow, type: http, url: 'http://127.0.0.1:${port}/slow', timeout: 300ms }
    error_handling:
      - { on_error: timeout, action: continue }
  notify:
    input: { n: integer }
    steps:
      - { id: logged, type: notification, channel: log, message: 'run \${input.n} logged' }
      - { id: hooked, type: notification, channel: webhook, message: 'run \${input.n} posted' }
      - { id: refused, type: notification, channel: webhook, message: 'refuse me' }
      - { id: off, type: notification, channel: dashboard, message: 'nobody sees this' }
    error_handling:
      - { on_error: E_JOB_FAILED, action: continue }
      - { on_error: E_CONFIG_INVALID, action: continue }
`;

// The notification channels: log at INFO, the webhook on the loopback server, the dashboard off.
const SLA_RULES = (port: number) => `notifications:
  log: { level: INFO }
  webhook: { url: 'http://127.0.0.1:${port}/hook' }
  dashboard: { enabled: false }
`;

describe('database and http steps', () => {
  let store: Store;
  let server: Server;
  let flows: Flows;
  let worker: Worker;
  let dir: string;
  const seen: { method: string; url: string; auth: string | undefined; body: string }[] = [];
  const logged = recordingLogger();

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        seen.push({ method: req.method!, url: req.url!, auth: req.headers.authorization, body });
        // Never answered: the step's timeout ends the request.
        if (req.url === '/slow') return;
        if (req.url === '/broken' || body.includes('refuse me')) {
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
    dir = configDir({
      'base/workflows.yaml': WORKFLOWS(port),
      'base/datasources.yaml': DATASOURCES(true),
      'base/sla_rules.yaml': SLA_RULES(port),
    });
    const db = openSqlite(join(dir, 'app.db'));
    db.exec(
      'CREATE TABLE tickets (id INTEGER PRIMARY KEY, title TEXT NOT NULL, status TEXT NOT NULL, tags TEXT)',
    );
    db.close();
    const config = await loadConfig(dir);
    store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    flows = await createFlows({ store, config: () => config, logger: logged.logger });
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
    server.closeAllConnections();
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

  it('deletes the rows its where selects and gives them; other rows stay', async () => {
    const db = openSqlite(join(dir, 'app.db'));
    db.exec("INSERT INTO tickets (title, status) VALUES ('stale', 'open'), ('keep', 'open')");
    db.close();
    const { id } = await flows.start('purge', { title: 'stale' });
    const out = await new Client(store).result<{ steps: Record<string, Record<string, unknown>> }>(id, {
      timeout: '20s',
    });
    expect(out.steps.drop).toMatchObject({ title: 'stale', status: 'open', count: 1 });
    const after = openSqlite(join(dir, 'app.db'), { readonly: true });
    expect(after.prepare("SELECT title FROM tickets WHERE title IN ('stale', 'keep')").all()).toEqual([
      { title: 'keep' },
    ]);
    after.close();
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

  it("ends a request at the step's timeout when the server does not answer, as E_TIMEOUT", async () => {
    seen.length = 0;
    const { id } = await flows.start('slow_call');
    const out = await new Client(store).result<{ steps: Record<string, unknown> }>(id, { timeout: '20s' });
    expect(out.steps.slow).toEqual({
      error: {
        code: 'E_TIMEOUT',
        message: expect.stringMatching(/step 'slow' \(\S+:\d+:\d+\) failed: .*timed out/),
      },
    });
    expect(seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /slow']);
  });

  it('notifies on the log and webhook channels, and fails a step whose channel does not send', async () => {
    seen.length = 0;
    const { id } = await flows.start('notify', { n: 3 });
    const out = await new Client(store).result<{ steps: Record<string, unknown> }>(id, { timeout: '20s' });
    expect(out.steps.logged).toEqual({ channel: 'log', message: 'run 3 logged' });
    // At the level sla_rules.notifications.log.level sets (INFO: pino's 30).
    expect(logged.lines).toContainEqual(
      expect.objectContaining({
        level: 30,
        msg: 'run 3 logged',
        workflow: 'notify',
        run: id,
        step: 'logged',
      }),
    );
    expect(out.steps.hooked).toEqual({ channel: 'webhook', message: 'run 3 posted' });
    const posted = seen.filter((s) => s.url === '/hook');
    expect(posted.map((s) => JSON.parse(s.body) as unknown)).toEqual([
      {
        notification: {
          channel: 'webhook',
          message: 'run 3 posted',
          workflow: 'notify',
          run: id,
          step: 'hooked',
        },
      },
      {
        notification: {
          channel: 'webhook',
          message: 'refuse me',
          workflow: 'notify',
          run: id,
          step: 'refused',
        },
      },
    ]);
    expect(out.steps.refused).toEqual({
      error: {
        code: 'E_JOB_FAILED',
        message: expect.stringMatching(/the notification webhook answered 500/),
      },
    });
    expect(out.steps.off).toEqual({
      error: {
        code: 'E_CONFIG_INVALID',
        message: expect.stringMatching(
          /channel 'dashboard' does not send \(enabled: false at sla_rules\.notifications\.dashboard\.enabled\)/,
        ),
      },
    });
    const stored = await store.driver.query('SELECT 1 FROM baton.flow_notifications WHERE run_id = $1', [id]);
    expect(stored).toEqual([]);
  });

  it('refuses at load a database step naming a datasource that is not declared, at its line and column', async () => {
    const bad = configDir({
      'base/datasources.yaml': DATASOURCES(true),
      'base/workflows.yaml': `workflows:
  w:
    steps:
      - { id: a, type: database, datasource: ap, action: select, table: t }
`,
    });
    const err = await loadConfig(bad).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const lines = (err as ConfigError).diagnostics.map((d) => `${d.line}:${d.col} ${d.message}`);
    expect(lines).toEqual([expect.stringMatching(/^4:46 no datasource 'ap' \(declared: app\)/)]);
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
