// The Architect's commands as a user runs them: send, list, show --json, explain, the bad inputs,
// sessions and SLA status, on PostgreSQL.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { freshDatabase } from '../../core/test/backends.js';
import { baton } from './run-baton.js';
import { FIXTURE_ENV } from '../../flows/test/config-helpers.js';
import { createArchitect, loadConfig, type RoutingRules, type SlaRules } from '@baton/flows';
import { Store } from '@baton/core';

const PG = process.env.BATON_PG_URL;
const CONFIG = fileURLToPath(new URL('../../../examples/architect/baton', import.meta.url));

describe.skipIf(!PG)('baton tasks / sessions / sla', () => {
  let env: Record<string, string> = {};
  let store: Store;
  const run = (...args: string[]) => baton(args, { env });

  beforeAll(async () => {
    env = { ...FIXTURE_ENV, BATON_DATABASE_URL: await freshDatabase(), BATON_CONFIG_DIR: CONFIG };
    store = await Store.open({ databaseUrl: env.BATON_DATABASE_URL });
    await store.migrate();
    // sessions registered through the library (a `client` session), as another program would
    const config = await loadConfig(CONFIG, { env: FIXTURE_ENV });
    const architect = await createArchitect({
      store,
      rules: () => ({
        routing: config.get('routing_rules') as RoutingRules,
        sla: config.get('sla_rules') as SlaRules,
      }),
    });
    await architect.sessions.register({ name: 'dev_worker1', provider: 'claude', capacity: 2 });
    await architect.sessions.register({ name: 'architect', provider: 'claude', capacity: 5 });
  });
  afterAll(async () => {
    await store?.close();
  });

  it('sends a task and shows it as JSON with its status, session, counters and history', async () => {
    const sent = await run(
      'tasks',
      'send',
      'move the CI to arm64',
      '--type',
      'infrastructure',
      '--env',
      'REGION=eu',
      '--workdir',
      '/srv/ci',
      '--json',
    );
    expect(sent.code, sent.stderr).toBe(0);
    const task = JSON.parse(sent.stdout);
    expect(task).toMatchObject({
      status: 'assigned',
      assigned_session: 'dev_worker1',
      priority: 3,
      timeout_minutes: 60,
    });
    const shown = await run('tasks', 'show', task.id, '--json');
    const full = JSON.parse(shown.stdout);
    expect(full).toMatchObject({
      status: 'assigned',
      assigned_session: 'dev_worker1',
      retry_count: 0,
      reassignments: 0,
    });
    expect(full.metadata).toEqual({
      working_dir: '/srv/ci',
      git_branch: null,
      project: null,
      env: { REGION: 'eu' },
    });
    expect(full.history.map((h: { event: string }) => h.event)).toEqual(['queued', 'assigned']);
    const text = await run('tasks', 'show', task.id);
    expect(text.stdout).toMatch(/^status: +assigned$/m);
    expect(text.stdout).toMatch(/assigned +dev_worker1 +assigned to dev_worker1/);
    const listed = await run('tasks', 'list', '--status', 'assigned');
    expect(listed.stdout).toMatch(new RegExp(`^${task.id} +infrastructure +assigned +3 +dev_worker1`, 'm'));
  });

  it('explains that the excluded session preferred by infrastructure is never chosen', async () => {
    const sent = JSON.parse(
      (await run('tasks', 'send', 'rotate keys', '--type', 'infrastructure', '--json')).stdout,
    );
    const explained = await run('tasks', 'explain', sent.id);
    expect(explained.code).toBe(0);
    expect(explained.stdout).toMatch(/assigned to dev_worker1/);
    // the pending view of the same type lists every candidate
    const pending = JSON.parse(
      (await run('tasks', 'send', 'more', '--type', 'infrastructure', '--json')).stdout,
    );
    expect(pending.status).toBe('pending');
    const why = await run('tasks', 'explain', pending.id);
    expect(why.stdout).toMatch(
      /still pending because: .*no preferred session can take it \(1 excluded, 1 full\)/,
    );
    expect(why.stdout).toMatch(
      /not eligible +architect \(claude, idle\): preferred session 1 of 2; excluded by excluded_sessions, although preferred/,
    );
    expect(why.stdout).toMatch(
      /not eligible +dev_worker1 \(claude, busy\): preferred session 2 of 2; full: 2\/2 tasks/,
    );
  });

  it('refuses bad input with a clear message and exit 1, storing nothing', async () => {
    const before = JSON.parse((await run('tasks', 'list', '--json')).stdout).length;
    const cases: [string[], RegExp][] = [
      [['tasks', 'send', 'x', '--priority', '11'], /priority must be an integer from 0 \(lowest\) to 10/],
      [['tasks', 'send', 'x', '--timeout', '0'], /--timeout must be longer than 0/],
      [
        ['tasks', 'send', 'x', '--target', 'dev_workr1'],
        /target session 'dev_workr1' does not exist \(did you mean 'dev_worker1'\?\)/,
      ],
      [['tasks', 'send', 'x', '--provider', 'gpt'], /gpt/],
      [['tasks', 'send', 'x', '--env', 'NOEQUALS'], /--env takes NAME=value/],
      [['tasks', 'list', '--status', 'done'], /unknown task status 'done'/],
      [['tasks', 'show', 'nope'], /no task 'nope'/],
      [['tasks', 'retry'], /give a task id or --all-failed/],
      [['sessions', 'drain', 'dev_workr1'], /no session 'dev_workr1' \(did you mean 'dev_worker1'\?\)/],
      [['sessions', 'remove', 'dev_worker1'], /holds 2 tasks .*--force/],
      [['session', 'run', 'w9', '--provider', 'claude'], /give the command to run per task after --/],
      [
        ['session', 'run', 'w9', '--provider', 'gtp', '--', 'true'],
        /provider 'gtp' is not in routing_rules.yaml supported_providers/,
      ],
    ];
    for (const [args, message] of cases) {
      const r = await run(...args);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(JSON.parse((await run('tasks', 'list', '--json')).stdout)).toHaveLength(before);
  });

  it('lists sessions, drains one, and reports SLA status as JSON', async () => {
    const list = JSON.parse((await run('sessions', 'list', '--json')).stdout);
    expect(list.map((s: { name: string; status: string }) => [s.name, s.status])).toEqual([
      ['architect', 'idle'],
      ['dev_worker1', 'busy'],
    ]);
    expect((await run('sessions', 'drain', 'dev_worker1')).stdout).toMatch(
      /dev_worker1: draining \(2 tasks to finish\)/,
    );
    const sla = JSON.parse((await run('sla', 'status', '--json')).stdout);
    expect(sla.tasks.length).toBeGreaterThanOrEqual(3);
    expect(sla.tasks[0]).toMatchObject({ target_key: 'default', target_minutes: 10, severity: 'ok' });
    expect(sla.queue_depth).toBe(1);
    const cancelled = await run('tasks', 'cancel', sla.tasks[0].task_id);
    expect(cancelled.stdout).toMatch(/: cancelled$/m);
    expect((await run('tasks', 'clear')).stdout).toBe('deleted 1 task\n');
  });
});
