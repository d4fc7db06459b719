// YAML workflows over HTTP (PGlite, and PostgreSQL when BATON_PG_URL is set): the list, a plan, a start by
// an operator (a viewer is refused), an api trigger from workflows.yaml as a route of its own, and an
// approval answered over HTTP, checked against the step's approvers. A worker in this process runs
// the runs, as `baton flows worker` would.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Store, Worker } from '@baton/core';
import { createFlows, loadConfig, type Config, type Flows } from '@baton/flows';
import { eventually, quietLogger } from '../../core/test/backends.js';
import { BACKENDS } from './stores.js';
import { ApiKeys, migrateServer, startServer, type RunningServer } from '../src/index.js';

const WORKFLOWS = `workflows:
  feature:
    description: A feature, approved before it ships
    trigger: { type: api, endpoint: /api/features, method: POST }
    input: { title: string }
    steps:
      - { id: record, type: set, vars: { title: '\${input.title}' } }
      - id: gate
        type: wait
        approval: { prompt: 'Ship \${input.title}?', approvers: [key:APPROVER] }
        timeout: 1h
`;

describe.each(BACKENDS)('YAML workflows over HTTP on $name', (backend) => {
  let store: Store;
  let server: RunningServer;
  let worker: Worker;
  let flows: Flows;
  let dir: string;
  let viewer: string;
  let operator: string;
  let approver: string;
  let admin: string;
  let approverId: string;
  /** The configuration the flows in this process (and so the worker's definitions) are on. */
  let config: Config;

  const call = async (method: string, path: string, key: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${key}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(async () => {
    store = await backend.open();
    await store.migrate();
    await migrateServer(store.driver);
    const keys = new ApiKeys(store.driver);
    viewer = (await keys.create('viewer')).key;
    operator = (await keys.create('operator')).key;
    admin = (await keys.create('admin')).key;
    const a = await keys.create('operator', 'approver');
    approver = a.key;
    approverId = a.info.id;
    dir = mkdtempSync(join(tmpdir(), 'baton-server-flows-'));
    mkdirSync(join(dir, 'base'));
    writeFileSync(join(dir, 'base', 'workflows.yaml'), WORKFLOWS.replace('APPROVER', a.info.id));
    server = await startServer({ store, logger: quietLogger(), port: 0, configDir: dir });
    config = await loadConfig(dir);
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
    await worker?.stop({ deadline: 2000 });
    await flows?.close();
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('lists the workflows to a viewer, with their triggers and steps', async () => {
    const r = await call('GET', '/api/flows', viewer);
    expect(r.status).toBe(200);
    expect(r.body.items).toEqual([
      {
        name: 'feature',
        description: 'A feature, approved before it ships',
        trigger: { type: 'api', endpoint: '/api/features', method: 'POST' },
        input: { title: 'string' },
        steps: [
          { id: 'record', type: 'set' },
          { id: 'gate', type: 'wait' },
        ],
      },
    ]);
  });

  it('plans a run for a viewer, rendering what the input fixes, running nothing', async () => {
    const client = new Client(store);
    const before = (await client.list({ name: 'feature', kind: 'workflow' })).length;
    const r = await call('POST', '/api/flows/feature/plan', viewer, { title: 'dark mode' });
    expect(r.status).toBe(200);
    expect(r.body.version).toMatch(/^sha256:/);
    expect(r.body.steps).toEqual([
      { name: 'record', type: 'set', depth: 0, runs: 'yes', values: { vars: { title: 'dark mode' } } },
      expect.objectContaining({ name: 'gate', type: 'wait', runs: 'yes' }),
    ]);
    expect((await client.list({ name: 'feature', kind: 'workflow' })).length).toBe(before);
    const bad = await call('POST', '/api/flows/feature/plan', viewer, { titel: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/unknown field 'titel'/);
    expect((await call('POST', '/api/flows/nope/plan', viewer, {})).status).toBe(404);
    // A name every object inherits is not a workflow either (found by the fuzz test as a 500).
    for (const name of ['constructor', 'toString', '__proto__'])
      expect((await call('POST', `/api/flows/${name}/plan`, viewer, {})).status).toBe(404);
  });

  it('starts runs for operators only, through the api trigger or by name, checking the input', async () => {
    expect((await call('POST', '/api/features', viewer, { title: 'x' })).status).toBe(403);
    const bad = await call('POST', '/api/features', operator, { titel: 'x' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/unknown field 'titel' \(did you mean 'title'\?\)/);
    const viaTrigger = await call('POST', '/api/features', operator, { title: 'dark mode' });
    expect(viaTrigger.status).toBe(201);
    expect(viaTrigger.body).toMatchObject({
      workflow: 'feature',
      version: expect.stringMatching(/^sha256:/),
    });
    const byName = await call('POST', '/api/flows/feature/runs', operator, { title: 'light mode' });
    expect(byName.status).toBe(201);
    expect((await call('POST', '/api/flows/nope/runs', operator, {})).status).toBe(404);
    expect((await call('POST', '/api/flows/constructor/runs', operator, {})).status).toBe(404);
  });

  it('takes an approval from an allowed approver only, and the run goes on', async () => {
    const { body } = await call('POST', '/api/features', operator, { title: 'search' });
    const client = new Client(store);
    await eventually(async () => (await client.get(body.id)).status === 'waiting', 10_000, 'the run to wait');
    // An operator who is not among the approvers: the signal is taken and ignored.
    expect(
      (await call('POST', `/api/flows/runs/${body.id}/approvals/gate`, operator, { approved: true })).status,
    ).toBe(200);
    expect(
      (await call('POST', `/api/flows/runs/${body.id}/approvals/gate`, viewer, { approved: true })).status,
    ).toBe(403);
    const ok = await call('POST', `/api/flows/runs/${body.id}/approvals/gate`, approver, {
      approved: true,
      reason: 'ship it',
    });
    expect(ok.status).toBe(200);
    const out = await client.result<{ steps: { gate: Record<string, unknown> } }>(body.id, {
      timeout: '20s',
    });
    expect(out.steps.gate).toMatchObject({
      approved: true,
      reason: 'ship it',
      by: expect.stringMatching(/^key:/),
    });
  });

  it('answers the api triggers of a reloaded configuration: added ones start their workflow, removed ones are gone', async () => {
    // `feature` loses its trigger; `bugfix` is added with one.
    const edited = WORKFLOWS.replace('APPROVER', approverId).replace(
      '    trigger: { type: api, endpoint: /api/features, method: POST }\n',
      '',
    ).concat(`  bugfix:
    trigger: { type: api, endpoint: /api/bugs, method: PUT }
    input: { title: string }
    steps:
      - { id: record, type: set, vars: { title: '\${input.title}' } }
`);
    writeFileSync(join(dir, 'base', 'workflows.yaml'), edited);
    expect((await call('POST', '/api/config/reload', admin)).status).toBe(200);
    // The worker of this process learns the new workflow as `baton flows worker` does on a reload.
    config = await loadConfig(dir);
    await worker.serve({ workflows: [...flows.definitions] });

    expect((await call('PUT', '/api/bugs', viewer, { title: 'x' })).status).toBe(403);
    const bad = await call('PUT', '/api/bugs', operator, { titel: 'x' });
    expect(bad.status).toBe(400);
    const started = await call('PUT', '/api/bugs', operator, { title: 'crash on save' });
    expect(started.status).toBe(201);
    expect(started.body.workflow).toBe('bugfix');
    const out = await new Client(store).result<{ vars: Record<string, unknown> }>(started.body.id, {
      timeout: '20s',
    });
    expect(out.vars).toEqual({ title: 'crash on save' });

    const gone = await call('POST', '/api/features', operator, { title: 'x' });
    expect(gone.status).toBe(404);
    expect(gone.body.error.message).toMatch(/no YAML workflow has the api trigger POST \/api\/features/);
    // Other unknown routes are still plain 404s, whatever the caller's role.
    const unknown = await call('PUT', '/api/nothing-here', viewer, {});
    expect(unknown.status).toBe(404);
    expect(unknown.body.error.message).toMatch(/no such route/);
  });
});
