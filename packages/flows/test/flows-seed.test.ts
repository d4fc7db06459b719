// The seed's own workflows.yaml (examples/architect/baton/base/workflows.yaml, as seed 003 writes it)
// run end to end against command sessions: the SQLite example database, the example functions
// (examples/architect/flows.ts: route_task_to_session sends the task through the Architect's router),
// two real `command` sessions (dev_worker1, dev_worker2: a child process per task), the named query
// tasks_by_id, the SLA notification in the monitoring loop, the reassignment on timeout, and a
// rollback when a step fails.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Store, Worker } from '@baton/core';
import { eventually, quietLogger } from '../../core/test/backends.js';
import { makeArchitectDb } from '../../../examples/architect/make-db.js';
import * as exampleFunctions from '../../../examples/architect/flows.js';
import { loadConfig } from '../src/config/load.js';
import type { Config } from '../src/config/config.js';
import { createArchitect, type Architect } from '../src/architect/architect.js';
import { rulesFromConfig } from '../src/architect/context.js';
import { startControlPlane, type ControlPlane } from '../src/architect/control-plane.js';
import { commandExecutor } from '../src/architect/adapters/command.js';
import { runSession } from '../src/architect/adapters/runner.js';
import { createQueryService, type QueryService } from '../src/queries/service.js';
import { openSqlite } from '../src/queries/sqlite-driver.js';
import { createFlows, defineFlowFunction, type Flows } from '../src/workflows/index.js';
import { EXAMPLE_CONFIG, FIXTURE_ENV } from './config-helpers.js';

type Output = { steps: Record<string, Record<string, unknown>> };

/**
 * A session's command: the prompt arrives on stdin; it answers with its name and the prompt.
 * dev_worker1 takes 6 s over a feature (long enough for the monitoring loop to time out).
 */
function sessionScript(name: string): string[] {
  const slow = name === 'dev_worker1' ? 'case "$p" in feature*) sleep 6;; esac; ' : '';
  return ['sh', '-c', `p=$(cat); ${slow}echo "${name} did: $p"`];
}

describe("the seed's workflows, against command sessions", () => {
  let dir: string;
  let config: Config;
  let store: Store;
  let queries: QueryService;
  let architect: Architect;
  let plane: ControlPlane;
  let flows: Flows;
  let worker: Worker;
  let client: Client;
  const stopSessions = new AbortController();
  let sessions: Promise<void>[] = [];
  const cleaned: unknown[] = [];
  /** While set, create_test_environment fails (the rollback test sets it). */
  let noPortLeft = false;

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
    architect = await createArchitect({ store, rules: () => rulesFromConfig(config), logger: quietLogger() });
    plane = await startControlPlane(store, architect, { slaIntervalMs: 200, dispatchIntervalMs: 200 });
    // cleanup_environment as the example defines it, and a record of what it was given.
    const cleanup = defineFlowFunction('cleanup_environment', (input, ctx) => {
      cleaned.push(input);
      return exampleFunctions.cleanupEnvironment.fn(input, ctx);
    });
    const createEnv = defineFlowFunction('create_test_environment', (input, ctx) => {
      if (noPortLeft) throw new Error('no port left in 6001-6010');
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
      config: () => config,
      functions,
      query: (name, params) => queries.run(name, params),
      architect,
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
    sessions = ['dev_worker1', 'dev_worker2'].map((name) =>
      runSession(architect, {
        session: { name, provider: 'claude', adapter: 'command' },
        executor: commandExecutor(sessionScript(name), { cwd: dir }),
        signal: stopSessions.signal,
        heartbeatMs: 200,
        log: quietLogger(),
      }),
    );
    await eventually(
      async () => (await architect.sessions.list()).length === 2,
      10_000,
      'both sessions to register',
    );
  });
  afterAll(async () => {
    stopSessions.abort();
    await Promise.allSettled(sessions);
    await worker.stop({ deadline: 2000 });
    await flows.close();
    await plane.stop();
    await queries.close();
    await store.close();
  });

  /** The Architect task once its session has ended it. */
  const ended = async (id: string) => {
    await eventually(
      async () => ['completed', 'failed'].includes((await architect.tasks.show(id)).status),
      20_000,
      `task ${id} to end`,
    );
    return architect.tasks.show(id);
  };

  const notifications = (run: string) =>
    store.driver.query<{ step: string; channel: string; message: string }>(
      'SELECT step, channel, message FROM baton.flow_notifications WHERE run_id = $1 ORDER BY id',
      [run],
    );

  it('bug_fix: inserts the task, routes it to a session that does it, and notifies the dashboard', async () => {
    const { id } = await flows.start('bug_fix');
    const out = await client.result<Output>(id, { timeout: '20s' });
    const task = out.steps.create_task!;
    expect(task).toMatchObject({ type: 'bug_fix', status: 'pending', priority: 9 });
    // The router chose the rules' first preferred session, which was free.
    expect(out.steps.assign_to_session).toMatchObject({
      task_id: task.id,
      session_id: 'dev_worker2',
      status: 'assigned',
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
    // The session's command ran the task: its answer is the task's result.
    const done = await ended(out.steps.assign_to_session!.architect_task as string);
    expect(done).toMatchObject({ status: 'completed', assigned_session: 'dev_worker2', priority: 10 });
    expect(done.result).toBe(`dev_worker2 did: bug fix: task ${task.id} of workflow run ${id}\n`);
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
    const routed = out.steps.assign_to_session!;
    expect(routed).toMatchObject({ task_id: taskId, session_id: 'dev_worker1', status: 'assigned' });
    // The port the Architect leased for the task when it assigned it; the example configures no hook.
    expect(out.steps.create_environment).toMatchObject({
      port: 6001,
      session_id: 'dev_worker1',
      hook: 'no create_env hook is configured',
    });
    // The loop's condition reads create_task's recorded status (pending), so it runs until its
    // max_iterations and fails with E_TIMEOUT: the handler moves the task, still being done by the
    // slow dev_worker1, to dev_worker2.
    expect(out.steps.monitor_progress).toMatchObject({
      error: { code: 'E_TIMEOUT' },
      reassigned: {
        task_id: taskId,
        architect_task: routed.architect_task,
        to_session: 'dev_worker2',
        after: 'monitor_progress',
        moved: true,
      },
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
    // dev_worker2 did the task; dev_worker1's late answer was refused.
    const done = await ended(routed.architect_task as string);
    expect(done).toMatchObject({ status: 'completed', assigned_session: 'dev_worker2', reassignments: 1 });
    expect(done.result).toMatch(/^dev_worker2 did: feature development: task /);
    const events = (await architect.tasks.show(done.id)).history!.map((h) => [h.event, h.session]);
    expect(events).toEqual(
      expect.arrayContaining([
        ['assigned', 'dev_worker1'],
        ['reassigned', 'dev_worker1'],
        ['assigned', 'dev_worker2'],
        ['completed', 'dev_worker2'],
      ]),
    );
  });

  it('feature_development: a failing step rolls back the task it inserted, newest first', async () => {
    noPortLeft = true;
    try {
      const { id } = await flows.start('feature_development');
      await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(/no port left in 6001-6010/);
      const history = (await client.describe(id)).history;
      const task = history.find((h) => h.name === 'create_task')!.output as { id: number };
      expect(history.map((h) => h.name)).toContain('create_task.rollback');
      const db = openSqlite(join(dir, 'data/architect.db'), { readonly: true });
      expect(db.prepare('SELECT count(*) AS n FROM tasks WHERE id = ?').get(task.id)).toEqual({ n: 0 });
      db.close();
    } finally {
      noPortLeft = false;
    }
  });
});
