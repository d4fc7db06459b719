// YAML workflows at run time, beyond flows.test.ts: the branch a conditional does not take by
// default, signal waits that time out, a workflow's own timeout, subflows into code workflows, the
// env allowlist, `cron` triggers, and run-time errors that say where the failing step is written.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, Store, Worker, defineWorkflow } from '@baton/core';
import { eventually, freshDatabase, quietLogger } from '../../core/test/backends.js';
import { loadConfig } from '../src/config/load.js';
import { createFlows, defineFlowFunction, type Flows } from '../src/workflows/index.js';
import { configDir } from './config-helpers.js';
import { architectBackends } from './architect-helpers.js';

const FLOWS = `settings:
  env: [FLOWS_RT_ALLOWED]
workflows:
  branches:
    input: { fast: boolean }
    steps:
      - id: pick
        type: conditional
        condition: '\${input.fast}'
        if_true: { type: function, function: record, input: { what: fast lane } }
        if_false:
          - { type: set, vars: { lane: slow } }
          - { type: function, function: record, input: { what: slow lane } }
  awaits_go:
    steps:
      - { id: go, type: wait, signal: go, timeout: 300ms }
      - { id: after, type: set, vars: { timed_out: '\${steps.go.error.code}' } }
    error_handling:
      - { on_error: timeout, action: continue }
  awaits_go_strict:
    steps:
      - id: go
        type: wait
        signal: go
        timeout: 300ms
  bounded:
    timeout: 1s
    steps:
      - { id: hold, type: wait, signal: never_sent }
    finally:
      - { id: cleanup, type: function, function: record, input: { what: cleanup after the timeout } }
  calls_code:
    input: { n: integer }
    steps:
      - { id: child, type: subflow, workflow: code_square, input: { n: '\${input.n}' } }
      - { id: after, type: set, vars: { square: '\${steps.child.square}' } }
  reads_env:
    steps:
      - { id: look, type: set, vars: { allowed: '\${env.FLOWS_RT_ALLOWED}', hidden: '\${env.FLOWS_RT_HIDDEN}' } }
  bad_math:
    input: { n: any }
    steps:
      - id: double
        type: set
        vars: { twice: '\${abs(input.n)}' }
  cron_ticker:
    trigger: { type: cron, cron: '* * * * * *' }
    steps:
      - { id: tick, type: set, vars: { at: '\${now}' } }
`;

/** The 1-based line of FLOWS that starts with `text` (after its indentation). */
const lineOf = (text: string): number => FLOWS.split('\n').findIndex((l) => l.trimStart() === text) + 1;

describe.each(architectBackends())('runs on %s', (backend) => {
  let store: Store;
  let client: Client;
  let flows: Flows;
  let worker: Worker;
  const calls: string[] = [];

  const functions = [
    defineFlowFunction('record', (input) => {
      calls.push((input as { what: string }).what);
      return { ok: true };
    }),
  ];
  // A workflow written in code, which a YAML subflow step starts by name.
  const codeSquare = defineWorkflow<{ n: number }, { square: number }>(
    'code_square',
    { queue: 'flows' },
    (ctx, input) => ctx.step('square', () => ({ square: input.n * input.n })),
  );

  beforeAll(async () => {
    const url = backend === 'postgres' ? await freshDatabase() : undefined;
    store = await Store.open(
      url ? { databaseUrl: url, logger: quietLogger() } : { dataDir: 'memory://', logger: quietLogger() },
    );
    await store.migrate();
    client = new Client(store);
    process.env.FLOWS_RT_ALLOWED = 'visible';
    process.env.FLOWS_RT_HIDDEN = 'not for templates';
    const config = await loadConfig(configDir({ 'base/workflows.yaml': FLOWS }));
    flows = await createFlows({
      store,
      config: () => config,
      functions,
      workflows: [codeSquare],
      logger: quietLogger(),
    });
    worker = new Worker(store, {
      workflows: [...flows.definitions, codeSquare],
      jobs: [...flows.jobs],
      schedules: [...flows.schedules],
      queues: ['flows'],
      concurrency: 10,
      pollInterval: 50,
      logger: quietLogger(),
    });
    await worker.start();
  });
  afterAll(async () => {
    await worker.stop({ deadline: 2000 });
    await store.close();
    delete process.env.FLOWS_RT_ALLOWED;
    delete process.env.FLOWS_RT_HIDDEN;
  });

  it("takes a conditional's if_false branch when the condition is false; its output is the branch's last", async () => {
    calls.length = 0;
    const { id } = await flows.start('branches', { fast: false });
    const out = await client.result<{ steps: Record<string, unknown>; vars: Record<string, unknown> }>(id, {
      timeout: '20s',
    });
    expect(calls).toEqual(['slow lane']);
    expect(out.vars.lane).toBe('slow');
    expect(out.steps.pick).toEqual({ ok: true });
  });

  it('times a signal wait out: an on_error: timeout handler takes it, and without one the run fails naming the step and where it is', async () => {
    const tolerant = await flows.start('awaits_go');
    const out = await client.result<{ steps: Record<string, unknown>; vars: Record<string, unknown> }>(
      tolerant.id,
      { timeout: '20s' },
    );
    expect(out.vars.timed_out).toBe('E_TIMEOUT');
    expect(out.steps.go).toEqual({
      error: { code: 'E_TIMEOUT', message: expect.stringMatching(/no signal 'go' came within 300ms/) },
    });

    const strict = await flows.start('awaits_go_strict');
    const at = `workflows\\.yaml:${lineOf('- id: go')}:9`;
    await expect(client.result(strict.id, { timeout: '20s' })).rejects.toThrow(
      new RegExp(`workflow 'awaits_go_strict': step 'go' \\(\\S+${at}\\): no signal 'go' came within 300ms`),
    );
    expect((await client.get(strict.id)).error?.code).toBe('E_FLOW_FAILED');
  });

  it('says where a step whose template fails at run time is written', async () => {
    const { id } = await flows.start('bad_math', { n: 'seven' });
    const at = `workflows\\.yaml:${lineOf('- id: double')}:9`;
    await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(
      new RegExp(`step 'double' \\(\\S+${at}\\): \\$\\{abs\\(input\\.n\\)\\}: `),
    );
  });

  it("ends a run at the workflow's timeout with E_TIMEOUT, without finally (as documented)", async () => {
    calls.length = 0;
    const { id } = await flows.start('bounded');
    await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(/passed its timeout/);
    const run = await client.get(id);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('E_TIMEOUT');
    expect(calls).toEqual([]);
  });

  it('starts a code workflow as a subflow and reads its output', async () => {
    const { id } = await flows.start('calls_code', { n: 7 });
    const out = await client.result<{ steps: Record<string, unknown>; vars: Record<string, unknown> }>(id, {
      timeout: '20s',
    });
    expect(out.steps.child).toEqual({ square: 49 });
    expect(out.vars.square).toBe(49);
    const children = (await client.describe(id)).history.filter((h) => h.kind === 'child');
    expect(children.map((h) => h.name)).toEqual(['code_square']);
  });

  it('lets templates read the env variables settings.env lists, and no other (they read null)', async () => {
    const { id } = await flows.start('reads_env');
    const out = await client.result<{ vars: Record<string, unknown> }>(id, { timeout: '20s' });
    expect(out.vars).toEqual({ allowed: 'visible', hidden: null });
    // Nor is an unlisted variable stored with the run's pinned version.
    const rows = await store.driver.query<{ env: Record<string, string> }>(
      `SELECT env FROM baton.flow_versions WHERE name = 'reads_env'`,
    );
    expect(rows.map((r) => r.env)).toEqual([{ FLOWS_RT_ALLOWED: 'visible' }]);
  });

  it('starts a workflow with a cron trigger on its cron, one run per fire, as a schedule trigger does', async () => {
    expect(flows.schedules.map((s) => s.name)).toContain('flows:cron_ticker');
    await eventually(
      async () => (await client.list({ name: 'cron_ticker', kind: 'workflow' })).length >= 2,
      10_000,
      'two ticks',
    );
    const runs = await client.list({ name: 'cron_ticker', kind: 'workflow' });
    expect(new Set(runs.map((r) => r.id)).size).toBe(runs.length);
    expect(runs.every((r) => r.id.startsWith('cron_ticker:schedule:'))).toBe(true);
  });
});
