// The task workflow under the control plane, on a real clock: timeouts reassign to an alternate
// session then fail, environments lease ports and run their hooks, and everything is freed at the end.
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '../../core/test/backends.js';
import { startControlPlane, type ControlPlane } from '../src/architect/control-plane.js';
import { architectBackends, openArchitect, type TestArchitect } from './architect-helpers.js';

for (const backend of architectBackends()) {
  describe(`task workflow (${backend})`, () => {
    let t: TestArchitect | undefined;
    let plane: ControlPlane | undefined;
    afterEach(async () => {
      await plane?.stop();
      await t?.close();
      plane = t = undefined;
    });

    async function open(change: Parameters<typeof openArchitect>[1] = () => {}): Promise<TestArchitect> {
      t = await openArchitect(backend, change, { realClock: true });
      plane = await startControlPlane(t.store, t.architect, { slaIntervalMs: 200, dispatchIntervalMs: 200 });
      return t;
    }

    it('reassigns a timed-out task to an alternate session, twice, then fails it (timeout_exceeded rule)', async () => {
      const { architect } = await open();
      for (const name of ['dev_worker1', 'dev_worker2', 'codex'])
        await architect.sessions.register({ name, provider: 'claude' });
      // 0.02 min = 1.2 s per attempt; no retries after the fixture's 2 reassignments
      const sent = await architect.tasks.send({
        type: 'bug_fix',
        prompt: 'p',
        timeout_minutes: 0.02,
        max_retries: 0,
      });
      await eventually(
        async () => (await architect.tasks.show(sent.id)).status === 'failed',
        20_000,
        'the task to fail',
      );
      const task = await architect.tasks.show(sent.id);
      const events = task.history!.map((h) => h.event);
      expect(events).toEqual([
        'queued',
        'assigned',
        'timed_out',
        'reassigned',
        'assigned',
        'timed_out',
        'reassigned',
        'assigned',
        'timed_out',
        'failed',
      ]);
      const sessions = task.history!.filter((h) => h.event === 'assigned').map((h) => h.session);
      expect(new Set(sessions).size).toBe(3);
      expect(task.reassignments).toBe(2);
      expect(task.history!.at(-1)!.reason).toMatch(/2 reassignments and 0 retries used/);
      await eventually(
        async () => (await architect.context.client.get(task.workflow_id)).status === 'completed',
        10_000,
        'the workflow to end',
      );
    });

    it('leases a port, runs create_env before the session may start, merge_pr after completion, and frees the port', async () => {
      const dir = mkdtempSync(join(tmpdir(), 'baton-hooks-'));
      const { architect, store } = await open((rules) => {
        rules.routing.environment_settings!.hooks = {
          create_env: `cat > ${dir}/create-$(date +%s%N).json`,
          merge_pr: `cat > ${dir}/merge-$(date +%s%N).json`,
        };
        rules.routing.environment_routing!.feature_development!.port_range = [6001, 6001];
      });
      const lease = await architect.sessions.register({
        name: 'dev_worker1',
        provider: 'claude',
        capacity: 2,
      });
      const a = await architect.tasks.send({ type: 'feature_development', prompt: 'add search' });
      const b = await architect.tasks.send({ type: 'feature_development', prompt: 'add filters' });
      expect(a.port).toBe(6001);
      expect(b.status).toBe('pending');
      expect((await architect.tasks.show(b.id)).waiting_because).toMatch(/port range 6001-6001 exhausted/);
      const taken = await architect.sessions.waitForTask(lease, { signal: AbortSignal.timeout(10_000) });
      expect(taken?.id).toBe(a.id);
      const created = readdirSync(dir).filter((f) => f.startsWith('create-'));
      expect(created).toHaveLength(1);
      expect(JSON.parse(readFileSync(join(dir, created[0]!), 'utf8')).id).toBe(a.id);
      await architect.sessions.complete(lease, a.id, 'done');
      // the port is free the moment a ends; b takes it
      await eventually(
        async () => (await architect.tasks.show(b.id)).port === 6001,
        10_000,
        'b to get the port',
      );
      const hooks = async () => (await architect.tasks.show(a.id)).history!.filter((h) => h.event === 'hook');
      await eventually(async () => (await hooks()).length === 2, 10_000, 'merge_pr to run');
      expect(readdirSync(dir).filter((f) => f.startsWith('merge-'))).toHaveLength(1);
      const history = (await architect.tasks.show(a.id)).history!;
      expect(history.filter((h) => h.event === 'hook').map((h) => h.reason)).toEqual([
        expect.stringMatching(/^create_env exited 0 .*\(port 6001\)/),
        expect.stringMatching(/^merge_pr exited 0/),
      ]);
      const leases = await store.driver.query<{ task_id: string }>(
        'SELECT task_id FROM baton.architect_port_leases',
      );
      expect(leases.map((l) => l.task_id)).toEqual([b.id]);
    });

    it('fails the attempt when create_env fails, with the hook’s stderr as the reason', async () => {
      const { architect } = await open((rules) => {
        rules.routing.environment_settings!.hooks = { create_env: 'echo "no docker here" >&2; exit 3' };
      });
      await architect.sessions.register({ name: 'dev_worker1', provider: 'claude' });
      const a = await architect.tasks.send({ type: 'feature_development', prompt: 'x', max_retries: 0 });
      await eventually(
        async () => (await architect.tasks.show(a.id)).status === 'failed',
        10_000,
        'the task to fail',
      );
      const task = await architect.tasks.show(a.id);
      expect(task.error).toMatch(/create_env exited 3 .*no docker here/);
      expect(task.port).toBe(6001);
      await eventually(
        async () =>
          (await architect.context.driver.query('SELECT 1 FROM baton.architect_port_leases')).length === 0,
        10_000,
        'the port to be freed',
      );
    });
  });
}
