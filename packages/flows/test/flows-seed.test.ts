// The seed's own workflows.yaml (examples/architect/baton/base/workflows.yaml, as seed 003 writes it)
// run end to end: the SQLite example database, the example functions (examples/architect/flows.ts),
// the named query tasks_by_id, the SLA notification in the monitoring loop, the reassignment on
// timeout, and a rollback when a step fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Store, Worker } from '@baton/core';
import { quietLogger } from '../../core/test/backends.js';
import { makeArchitectDb } from '../../../examples/architect/make-db.js';
import * as exampleFunctions from '../../../examples/architect/flows.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/config.js';
import { createQueryService, type QueryService } from '../src/queries/service.js';
import { openSqlite } from '../src/queries/sqlite-driver.js';
import { createFlows, defineFlowFunction, type Flows } from '../src/workflows/index.js';
import { EXAMPLE_CONFIG, FIXTURE_ENV } from './config-helpers.js';

type Output = { steps: Record<string, Record<string, unknown>> };

describe("the seed's workflows", () => {
  let dir: string;
  let config: Config;
  let store: Store;
  let queries: QueryService;
  let flows: Flows;
  let worker: Worker;
  let client: Client;
  const cleaned: unknown[] = [];
  /** A configuration laid over the loaded one for one test. */
  let current: Config | undefined;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-seed-flows-'));
    cpSync(EXAMPLE_CONFIG, join(dir, 'baton'), { recursive: true });
    makeArchitectDb(join(dir, 'data/architect.db'), { size: 'small', seed: 3 });
    // The only edits: the monitoring loop polls every second, three times, instead of every 30 s, 100 times.
    const file = join(dir, 'baton/base/workflows.yaml');
    const text = readFileSync(file, 'utf8');
    writeFileSync(
      file,
      text
        .replace('interval_seconds: 30', 'interval_seconds: 1')
        .replace('max_iterations: 100', 'max_iterations: 3'),
    );
    config = await loadConfig(join(dir, 'baton'), { env: FIXTURE_ENV });
    store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    queries = await createQueryService(config, { logger: quietLogger() });
    // cleanup_environment as the example defines it, and a record of what it was given.
    const cleanup = defineFlowFunction('cleanup_environment', (input, ctx) => {
      cleaned.push(input);
      return exampleFunctions.cleanupEnvironment.fn(input, ctx);
    });
    // create_test_environment fails for a session named 'broken' (the rollback test makes one).
    const createEnv = defineFlowFunction('create_test_environment', (input, ctx) => {
      if ((input as { session_id: string }).session_id === 'broken')
        throw new Error('no port left for broken');
      return exampleFunctions.createTestEnvironment.fn(input, ctx);
    });
    const replaced = new Set(['cleanup_environment', 'create_test_environment']);
    const functions = [
      ...Object.values(exampleFunctions).filter((f) => !replaced.has(f.name)),
      cleanup,
      createEnv,
    ];
    flows = await createFlows({
      store,
      config: () => current ?? config,
      functions,
      query: (name, params) => queries.run(name, params),
      logger: quietLogger(),
    });
    worker = new Worker(store, {
      workflows: [...flows.definitions],
      queues: ['flows'],
      pollInterval: 50,
      logger: quietLogger(),
    });
    await worker.start();
    client = new Client(store);
  });
  afterAll(async () => {
    await worker.stop({ deadline: 2000 });
    await flows.close();
    await queries.close();
    await store.close();
  });

  const notifications = (run: string) =>
    store.driver.query<{ step: string; channel: string; message: string }>(
      'SELECT step, channel, message FROM baton.flow_notifications WHERE run_id = $1 ORDER BY id',
      [run],
    );

  it('bug_fix: inserts the task, routes it by the rules and notifies the dashboard', async () => {
    const { id } = await flows.start('bug_fix');
    const out = await client.result<Output>(id, { timeout: '20s' });
    const task = out.steps.create_task!;
    expect(task).toMatchObject({ type: 'bug_fix', status: 'pending', priority: 9 });
    expect(out.steps.assign_to_session).toMatchObject({
      task_id: task.id,
      session_id: 'dev_worker2',
      urgent: true,
    });
    expect(await notifications(id)).toEqual([
      {
        step: 'notify_stakeholders',
        channel: 'dashboard',
        message: `URGENT: Bug fix task ${task.id} assigned to dev_worker2`,
      },
    ]);
    const db = openSqlite(join(dir, 'data/architect.db'), { readonly: true });
    expect(db.prepare('SELECT type, status, priority FROM tasks WHERE id = ?').get(task.id)).toEqual({
      type: 'bug_fix',
      status: 'pending',
      priority: 9,
    });
    db.close();
  });

  it('feature_development: the monitoring loop notifies an SLA breach, times out and reassigns, then goes on', async () => {
    const { id } = await flows.start('feature_development');
    // The task was created a moment ago: make it two hours old, as a slow task would be.
    const db = openSqlite(join(dir, 'data/architect.db'));
    let taskId: number | undefined;
    while (taskId === undefined) {
      const entry = (await client.describe(id)).history.find((h) => h.name === 'create_task');
      taskId = (entry?.output as { id?: number } | undefined)?.id;
      await new Promise((r) => setTimeout(r, 20));
    }
    db.prepare(`UPDATE tasks SET created_at = datetime('now', '-2 hours') WHERE id = ?`).run(taskId);
    db.close();
    const out = await client.result<Output>(id, { timeout: '30s' });
    expect(out.steps.create_environment).toMatchObject({ port: 6001, session_id: 'dev_worker1' });
    expect(out.steps.monitor_progress).toMatchObject({
      error: { code: 'E_TIMEOUT' },
      reassigned: { task_id: taskId, to_session: 'dev_worker2', after: 'monitor_progress' },
    });
    const breaches = await notifications(id);
    expect(breaches.length).toBeGreaterThan(0);
    expect(breaches[0]).toEqual({
      step: 'monitor_progress.1.conditional.notification',
      channel: 'dashboard',
      message: `Task ${taskId} exceeded SLA`,
    });
    expect(out.steps.create_pr).toMatchObject({
      would_open: { branch: 'feature/dev_worker1-6001', title: 'Feature: ' },
    });
    expect(cleaned.at(-1)).toEqual({ env_id: (out.steps.create_environment as { env_id: string }).env_id });
  });

  it('feature_development: a failing step rolls back the task it inserted, newest first', async () => {
    mkdirSync(join(dir, 'baton/local'), { recursive: true });
    writeFileSync(
      join(dir, 'baton/local/sessions.yaml'),
      'routing_rules:\n  environment_routing:\n    feature_development:\n      preferred_sessions: [broken]\n',
    );
    current = await loadConfig(join(dir, 'baton'), { env: FIXTURE_ENV });
    try {
      const { id } = await flows.start('feature_development');
      await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(/no port left for broken/);
      const history = (await client.describe(id)).history;
      const task = history.find((h) => h.name === 'create_task')!.output as { id: number };
      expect(history.map((h) => h.name)).toContain('create_task.rollback');
      const db = openSqlite(join(dir, 'data/architect.db'), { readonly: true });
      expect(db.prepare('SELECT count(*) AS n FROM tasks WHERE id = ?').get(task.id)).toEqual({ n: 0 });
      db.close();
    } finally {
      current = undefined;
    }
  });
});
