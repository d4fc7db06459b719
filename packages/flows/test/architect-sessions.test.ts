// Sessions: drain, stale detection and requeue, approval prompts, deregistration, and the `command`
// and `tmux` adapters doing real tasks through runSession.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually, quietLogger } from '../../core/test/backends.js';
import { commandExecutor } from '../src/architect/adapters/command.js';
import { runSession } from '../src/architect/adapters/runner.js';
import { tmuxExecutor } from '../src/architect/adapters/tmux.js';
import { resolveAgentProfile } from '../src/architect/tmux/defaults.js';
import { Tmux } from '../src/architect/tmux/tmux.js';
import { architectBackends, openArchitect, type TestArchitect } from './architect-helpers.js';
import { tmuxInstalled } from './tmux-helpers.js';

const FAKE_AGENT = fileURLToPath(new URL('./fixtures/fake-agent.mjs', import.meta.url));

for (const backend of architectBackends()) {
  describe(`sessions (${backend})`, () => {
    let t: TestArchitect;
    afterEach(async () => {
      await t.close();
    });

    it('a draining session finishes its task and gets no new one', async () => {
      t = await openArchitect(backend);
      const { tasks, sessions } = t.architect;
      const w = await sessions.register({ name: 'dev_worker2', provider: 'claude', capacity: 3 });
      const first = await tasks.send({ type: 'bug_fix', prompt: 'a' });
      await sessions.drain('dev_worker2');
      expect((await sessions.show('dev_worker2')).status).toBe('draining');
      const second = await tasks.send({ type: 'bug_fix', prompt: 'b' });
      expect(second.status).toBe('pending');
      const why = await tasks.explain(second.id);
      expect(why.text).toMatch(/dev_worker2 .*draining/);
      expect((await sessions.next(w))?.id).toBe(first.id);
      expect((await sessions.complete(w, first.id, 'ok')).status).toBe('completed');
      await sessions.heartbeat(w);
      expect((await sessions.show('dev_worker2')).status).toBe('draining');
      await expect(sessions.remove('nope')).rejects.toThrow(/no session 'nope'/);
      await sessions.remove('dev_worker2');
      expect(await sessions.list()).toHaveLength(0);
    });

    it('a silent session goes stale: its tasks are requeued with requeued_stale, it is kept unless auto_remove_stale', async () => {
      t = await openArchitect(backend);
      const { tasks, sessions } = t.architect;
      const w = await sessions.register({ name: 'dev_worker2', provider: 'claude' });
      const task = await tasks.send({ type: 'bug_fix', prompt: 'a' });
      await sessions.next(w);
      t.clock.t += 4 * 60_000;
      expect(await sessions.markStale()).toEqual([]);
      t.clock.t += 2 * 60_000;
      expect(await sessions.markStale()).toEqual(['dev_worker2']);
      const after = await tasks.show(task.id);
      expect(after.status).toBe('pending');
      expect(after.history!.at(-1)).toMatchObject({ event: 'requeued_stale', session: 'dev_worker2' });
      expect(after.history!.at(-1)!.reason).toMatch(/no heartbeat for 5\.0 min/);
      expect((await sessions.show('dev_worker2')).status).toBe('stale');
      // its late outcome is refused: it no longer holds the task
      await expect(sessions.complete(w, task.id, 'late')).rejects.toThrow(/does not hold task/);
      t.rules.routing.health_monitoring!.auto_remove_stale = true;
      await sessions.heartbeat(w);
      t.clock.t += 6 * 60_000;
      await sessions.markStale();
      expect(await sessions.list()).toHaveLength(0);
    });

    it('a session waiting on an approval prompt is never given work', async () => {
      t = await openArchitect(backend);
      const { tasks, sessions } = t.architect;
      const w = await sessions.register({ name: 'dev_worker2', provider: 'claude', capacity: 5 });
      await sessions.heartbeat(w, { state: 'waiting_input', note: 'Do you want to proceed? (y/n)' });
      const sent = await tasks.send({ type: 'bug_fix', prompt: 'a' });
      expect(sent.status).toBe('pending');
      expect((await tasks.explain(sent.id)).text).toMatch(/waiting for input/);
      await sessions.heartbeat(w, { state: 'active', note: null });
      await tasks.dispatch();
      expect((await tasks.show(sent.id)).assigned_session).toBe('dev_worker2');
    });

    it('the command adapter completes with stdout and fails with stderr', async () => {
      t = await openArchitect(backend, (r) => {
        r.routing.environment_routing!.bug_fix!.max_retries = 0;
      });
      const { tasks } = t.architect;
      const stop = new AbortController();
      // NUL bytes in an agent's output are kept as U+FFFD: refused, the task's outcome would be lost
      const script =
        'read p; case "$p" in fail*) printf "cannot\\0: %s" "$BATON_TASK_TYPE" >&2; exit 4;; nul) printf "a\\0b";; *) echo "did $p";; esac';
      const running = runSession(t.architect, {
        session: { name: 'dev_worker2', provider: 'claude', adapter: 'command' },
        executor: commandExecutor(['sh', '-c', script]),
        signal: stop.signal,
        heartbeatMs: 200,
        log: quietLogger(),
      });
      await eventually(
        async () => (await t.architect.sessions.list()).length === 1,
        10_000,
        'the session to register',
      );
      const ok = await tasks.send({ type: 'bug_fix', prompt: 'fix it' });
      const bad = await tasks.send({ type: 'bug_fix', prompt: 'fail please' });
      const nul = await tasks.send({ type: 'bug_fix', prompt: 'nul' });
      await eventually(
        async () =>
          (await tasks.show(bad.id)).status === 'failed' && (await tasks.show(nul.id)).status === 'completed',
        10_000,
        'the bad task to fail and the NUL one to complete',
      );
      expect((await tasks.show(ok.id)).result).toBe('did fix it\n');
      expect((await tasks.show(bad.id)).error).toBe('exited 4: cannot\ufffd: bug_fix');
      expect((await tasks.show(nul.id)).result).toBe('a\ufffdb');
      stop.abort();
      await running;
      expect((await t.architect.sessions.show('dev_worker2')).status).toBe('offline');
    });
  });
}

describe.skipIf(!tmuxInstalled())('the tmux adapter as a session (real tmux, fake agent)', () => {
  let t: TestArchitect;
  const socket = `baton-sess-${process.pid}`;
  afterEach(async () => {
    await new Tmux({ socket }).killServer();
    rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.()}`, socket), { force: true });
    await t.close();
  });

  it('reports the approval prompt as waiting_input and completes once it is answered', async () => {
    t = await openArchitect('pglite', () => {}, { realClock: true });
    const tmux = new Tmux({ socket, configFile: '/dev/null' });
    const profile = resolveAgentProfile('claude', {
      providers: {
        claude: {
          start_command: [process.execPath, FAKE_AGENT, '--busy-ms', '400'],
          poll_ms: 50,
          settle_ms: 300,
        },
      },
    });
    const stop = new AbortController();
    const running = runSession(t.architect, {
      session: { name: 'dev_worker2', provider: 'claude', adapter: 'tmux' },
      executor: await tmuxExecutor({ session: 'agent', profile, tmux }),
      signal: stop.signal,
      heartbeatMs: 200,
      log: quietLogger(),
    });
    const { tasks, sessions } = t.architect;
    await eventually(async () => (await sessions.list()).length === 1, 10_000, 'the session to register');
    const task = await tasks.send({ type: 'bug_fix', prompt: 'clean up NEEDS_APPROVAL' });
    await eventually(
      async () => (await sessions.show('dev_worker2')).status === 'waiting_input',
      15_000,
      'waiting_input',
    );
    expect((await sessions.show('dev_worker2')).note).toMatch(/Do you want to proceed\?/);
    expect((await tasks.show(task.id)).status).toBe('running');
    await tmux.sendKeys('agent', ['1']);
    await eventually(async () => (await tasks.show(task.id)).status === 'completed', 15_000, 'completion');
    expect((await tasks.show(task.id)).result).toMatch(/Approved: ran touch approved\.txt/);
    stop.abort();
    await running;
  });
});
