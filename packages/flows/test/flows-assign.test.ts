// The assign step: a YAML workflow sends a task through the Architect's router and waits, holding no
// memory, until the task's own workflow tells it the task ended (signal `task:<id>`).
import { afterEach, describe, expect, it } from 'vitest';
import { Client, Worker } from '@baton/core';
import { eventually, quietLogger } from '../../core/test/backends.js';
import { loadConfig } from '../src/config/load.js';
import { startControlPlane, type ControlPlane } from '../src/architect/control-plane.js';
import { createFlows, defineFlowFunction, type Flows, type FlowsOptions } from '../src/workflows/index.js';
import { architectBackends, openArchitect, type TestArchitect } from './architect-helpers.js';
import { configDir } from './config-helpers.js';

const WORKFLOWS = `workflows:
  fix:
    input: { bug: string }
    steps:
      - id: task
        type: assign
        task: { type: bug_fix, prompt: 'fix \${input.bug}', max_retries: 0 }
        timeout: 1m
      - { id: after, type: set, vars: { by: '\${steps.task.session}', said: '\${steps.task.result}' } }
  on_done:
    trigger: { type: event, event: task.completed, filter: "data.type == 'bug_fix'" }
    input: { task: string, type: string, status: string, result: any, error: any, session: any, attempt: integer }
    steps:
      - { id: note, type: set, vars: { done: '\${input.task}', by: '\${input.session}' } }
  on_alert:
    trigger: { type: event, event: sla.alert, filter: "data.severity == 'critical'" }
    steps:
      - { id: note, type: set, vars: { said: '\${input.message}' } }
`;

for (const backend of architectBackends()) {
  describe(`assign steps (${backend})`, () => {
    let t: TestArchitect | undefined;
    let plane: ControlPlane | undefined;
    let worker: Worker | undefined;
    let flows: Flows | undefined;
    afterEach(async () => {
      await worker?.stop({ deadline: 2000 });
      await flows?.close();
      await plane?.stop();
      await t?.close();
      worker = plane = t = flows = undefined;
    });

    /** The flows of `workflows` on t's Architect, and a worker serving them. */
    async function serve(workflows: string, extra: Partial<FlowsOptions> = {}): Promise<Flows> {
      const config = await loadConfig(configDir({ 'base/workflows.yaml': workflows }));
      flows = await createFlows({
        store: t!.store,
        config: () => config,
        architect: t!.architect,
        logger: quietLogger(),
        ...extra,
      });
      worker = new Worker(t!.store, {
        workflows: [...flows.definitions],
        queues: ['flows'],
        pollInterval: 50,
        logger: quietLogger(),
      });
      await worker.start();
      return flows;
    }

    /** The Architect with its control plane, the flows and their worker, a session; a run started. */
    async function startFix(bug: string) {
      t = await openArchitect(backend, () => {}, { realClock: true });
      plane = await startControlPlane(t.store, t.architect, { slaIntervalMs: 200, dispatchIntervalMs: 200 });
      const served = await serve(WORKFLOWS);
      const architect = t.architect;
      const lease = await architect.sessions.register({ name: 'dev_worker2', provider: 'claude' });
      const { id } = await served.start('fix', { bug });
      let taskId = '';
      await eventually(
        async () => {
          const [task] = await architect.tasks.list({ status: ['assigned', 'running'] });
          taskId = task?.id ?? '';
          return taskId !== '';
        },
        15_000,
        'the task to be assigned',
      );
      return { architect, client: new Client(t.store), lease, id, taskId };
    }

    it('sends the task, and goes on with its outcome once the session completes it', async () => {
      const { architect, client, lease, id, taskId } = await startFix('the login page');
      const task = await architect.tasks.show(taskId);
      expect(task).toMatchObject({
        type: 'bug_fix',
        prompt: 'fix the login page',
        assigned_session: 'dev_worker2',
      });
      // The run waits for the task, suspended (it may still be recording the send a moment longer).
      await eventually(async () => (await client.get(id)).status === 'waiting', 10_000, 'the run to wait');
      await architect.sessions.complete(lease, taskId, 'patched');
      const out = await client.result<{
        steps: { task: Record<string, unknown> };
        vars: Record<string, unknown>;
      }>(id, { timeout: '20s' });
      expect(out.steps.task).toMatchObject({
        task: taskId,
        status: 'completed',
        result: 'patched',
        session: 'dev_worker2',
      });
      expect(out.vars).toEqual({ by: 'dev_worker2', said: 'patched' });
      // The task's end is the event task.completed: it started on_done, once.
      let runs: { id: string }[] = [];
      await eventually(
        async () => (runs = await client.list({ name: 'on_done', kind: 'workflow' })).length > 0,
        15_000,
        'the event-triggered run',
      );
      const done = await client.result<{ vars: Record<string, unknown> }>(runs[0]!.id, { timeout: '20s' });
      expect(done.vars).toEqual({ done: taskId, by: 'dev_worker2' });
      expect(runs).toHaveLength(1);
      expect(runs[0]!.id).toBe(`task:${taskId}:1:on_done`);
    });

    it('fails the step when the task fails', async () => {
      const { architect, client, lease, id, taskId } = await startFix('the cache');
      await architect.sessions.fail(lease, taskId, 'cannot reproduce');
      await expect(client.result(id, { timeout: '20s' })).rejects.toThrow(/failed: cannot reproduce/);
    });

    it("gives functions the Architect's tasks: a send is once per step and key, whatever the step's attempts", async () => {
      t = await openArchitect(backend, () => {}, { realClock: true });
      const calls: string[][] = [];
      const tries: [string, number][] = [];
      const router = defineFlowFunction('route', async (input, ctx) => {
        const first = await ctx.tasks!.send({ type: 'bug_fix', prompt: 'one' });
        const again = await ctx.tasks!.send({ type: 'bug_fix', prompt: 'one, repeated' });
        const other = await ctx.tasks!.send({ type: 'bug_fix', prompt: 'two' }, { key: 'b' });
        calls.push([first.id, again.id, other.id]);
        tries.push([ctx.idempotencyKey, ctx.attempt]);
        // The first attempt fails after sending: the retry must find the same tasks, not send more.
        if (ctx.attempt === 1) throw new Error('lost the reply');
        return { first: first.id, other: other.id, rows: (await ctx.query('q', {})).count };
      });
      const served = await serve(
        `workflows:
  route:
    steps:
      - { id: r, type: function, function: route, retry: { max_attempts: 2, backoff: { base_delay: 10ms } } }
`,
        { functions: [router], query: async () => ({ results: [{ n: 1 }], count: 1 }) },
      );
      const { id } = await served.start('route');
      const out = await new Client(t.store).result<{ steps: { r: Record<string, unknown> } }>(id, {
        timeout: '20s',
      });
      expect(tries).toEqual([
        [`${id}:r`, 1],
        [`${id}:r`, 2],
      ]);
      expect(calls).toHaveLength(2);
      expect(calls[0]).toEqual(calls[1]);
      const [first, again, other] = calls[0]!;
      expect(again).toBe(first);
      expect(other).not.toBe(first);
      expect(out.steps.r).toEqual({ first, other, rows: 1 });
      const sent = await t.architect.tasks.list({});
      expect(sent.map((task) => task.prompt).sort()).toEqual(['one', 'two']);
    });

    it('turns a critical SLA alert into the event sla.alert', async () => {
      t = await openArchitect(backend); // the test's clock
      const config = await loadConfig(configDir({ 'base/workflows.yaml': WORKFLOWS }));
      flows = await createFlows({
        store: t.store,
        config: () => config,
        architect: t.architect,
        logger: quietLogger(),
      });
      const t0 = t.clock.t;
      const shell = await t.architect.tasks.send({ type: 'shell', prompt: 'ls' }); // 5 min, warning 80%, critical 100%
      t.clock.t = t0 + 4 * 60_000;
      await t.architect.checkSla(); // the warning: filtered out
      t.clock.t = t0 + 5 * 60_000;
      const check = await t.architect.checkSla();
      const alert = check.alerts.find((a) => a.severity === 'critical')!;
      const client = new Client(t.store);
      const runs = await client.list({ name: 'on_alert', kind: 'workflow' });
      expect(runs.map((r) => r.id)).toEqual([`sla:${alert.id}:on_alert`]);
      expect((runs[0]!.input as { input: unknown }).input).toMatchObject({
        task_id: shell.id,
        severity: 'critical',
      });
    });
  });
}
