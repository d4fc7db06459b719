// The Architect's task lifecycle on a real store: send, route, take, complete, fail, time out, and
// the GAIA_GO verbs (retry, reassign, cancel, clear), each with its history and reasons.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isBatonError } from '@baton/core';
import { DispatchRounds } from '../src/architect/dispatch-rounds.js';
import { architectBackends, openArchitect, type TestArchitect } from './architect-helpers.js';

for (const backend of architectBackends()) {
  describe(`tasks (${backend})`, () => {
    let t: TestArchitect;
    beforeEach(async () => {
      t = await openArchitect(backend);
    });
    afterEach(async () => {
      await t.close();
    });

    it('assigns a sent task to a preferred idle session, which takes and completes it', async () => {
      const { tasks, sessions } = t.architect;
      const w1 = await sessions.register({ name: 'dev_worker1', provider: 'claude', capacity: 2 });
      await sessions.register({ name: 'codex', provider: 'codex' });
      const sent = await tasks.send({ type: 'infrastructure', prompt: 'fix the build' });
      expect(sent.status).toBe('assigned');
      expect(sent.assigned_session).toBe('dev_worker1');
      const taken = await sessions.next(w1);
      expect(taken?.id).toBe(sent.id);
      expect(taken?.status).toBe('running');
      expect(await sessions.next(w1)).toBeNull();
      const done = await sessions.complete(w1, sent.id, 'done: build green');
      expect(done.status).toBe('completed');
      expect(done.result).toBe('done: build green');
      const shown = await tasks.show(sent.id);
      expect(shown.history!.map((h) => h.event)).toEqual(['queued', 'assigned', 'started', 'completed']);
      for (const h of shown.history!) expect(h.reason.length).toBeGreaterThan(0);
    });

    it('refuses an outcome from the wrong session and a second outcome, changing nothing', async () => {
      const { tasks, sessions } = t.architect;
      const a = await sessions.register({ name: 'dev_worker1', provider: 'claude' });
      const b = await sessions.register({ name: 'dev_worker2', provider: 'claude' });
      const sent = await tasks.send({ type: 'infrastructure', prompt: 'p', target_session: 'dev_worker1' });
      await sessions.next(a);
      await expect(sessions.complete(b, sent.id, 'mine')).rejects.toThrow(
        /session dev_worker2 does not hold task .*dev_worker1 holds it/,
      );
      expect((await tasks.show(sent.id)).status).toBe('running');
      await sessions.complete(a, sent.id, 'ok');
      await expect(sessions.fail(a, sent.id, 'late')).rejects.toThrow(/already completed/);
      const after = await tasks.show(sent.id);
      expect(after.status).toBe('completed');
      expect(after.result).toBe('ok');
    });

    it('completes a task and takes the next in one call, oldest first, and takes nothing when the completion is refused', async () => {
      const { tasks, sessions } = t.architect;
      const a = await sessions.register({ name: 'dev_worker1', provider: 'claude', capacity: 3 });
      const b = await sessions.register({ name: 'dev_worker2', provider: 'claude' });
      const sent = [];
      for (const prompt of ['one', 'two', 'three'])
        sent.push(await tasks.send({ type: 'infrastructure', prompt, target_session: 'dev_worker1' }));
      // completing a task that was assigned but never taken: it is not taken again as the next
      const first = await sessions.completeAndTakeNext(a, sent[0]!.id, 'r1');
      expect(first.completed).toMatchObject({ id: sent[0]!.id, status: 'completed', result: 'r1' });
      expect(first.next).toMatchObject({ id: sent[1]!.id, status: 'running' });
      // the wrong session and a second outcome are refused, and nothing is taken
      await expect(sessions.completeAndTakeNext(b, sent[1]!.id, 'mine')).rejects.toThrow(
        /session dev_worker2 does not hold task/,
      );
      await expect(sessions.completeAndTakeNext(a, sent[0]!.id, 'again')).rejects.toThrow(
        /already completed/,
      );
      expect((await tasks.show(sent[2]!.id)).status).toBe('assigned');
      const second = await sessions.completeAndTakeNext(a, sent[1]!.id, 'r2');
      expect(second.next?.id).toBe(sent[2]!.id);
      const last = await sessions.completeAndTakeNext(a, sent[2]!.id, 'r3');
      expect(last).toMatchObject({ completed: { status: 'completed' }, next: null });
      for (const task of sent) {
        const shown = await tasks.show(task.id);
        expect(shown.status).toBe('completed');
        expect(shown.history!.map((h) => h.event)).toEqual(
          task === sent[0]
            ? ['queued', 'assigned', 'completed']
            : ['queued', 'assigned', 'started', 'completed'],
        );
      }
      // each task's workflow was signalled once, to see its task end (the refused calls sent nothing)
      const signals = await t.store.driver.query<{ execution_id: string; n: number }>(
        'SELECT execution_id, count(*)::int AS n FROM baton.signals GROUP BY execution_id ORDER BY execution_id',
      );
      expect(signals).toEqual(
        sent
          .map((s) => ({ execution_id: s.workflow_id, n: 1 }))
          .sort((x, y) => (x.execution_id < y.execution_id ? -1 : 1)),
      );
    });

    it('queues a task while no session can take it and assigns it when one registers', async () => {
      const { tasks, sessions } = t.architect;
      const sent = await tasks.send({ type: 'bug_fix', prompt: 'p' });
      expect(sent.status).toBe('pending');
      expect(sent.waiting_because).toMatch(/no session is registered/);
      await sessions.register({ name: 'dev_worker3', provider: 'claude' });
      await tasks.dispatch();
      const after = await tasks.show(sent.id);
      expect(after.status).toBe('assigned');
      expect(after.history!.map((h) => h.event)).toEqual(['queued', 'throttled', 'assigned']);
    });

    it('serves higher priority first, oldest first among equals', async () => {
      const { tasks, sessions } = t.architect;
      const low = await tasks.send({ type: 'bug_fix', prompt: 'low', priority: 2 });
      t.clock.t += 1000;
      const high1 = await tasks.send({ type: 'bug_fix', prompt: 'high1', priority: 9 });
      t.clock.t += 1000;
      const high2 = await tasks.send({ type: 'bug_fix', prompt: 'high2', priority: 9 });
      const s = await sessions.register({ name: 'w', provider: 'claude', capacity: 1 });
      await tasks.dispatch();
      expect((await sessions.next(s))?.id).toBe(high1.id);
      await sessions.complete(s, high1.id);
      await tasks.dispatch();
      expect((await sessions.next(s))?.id).toBe(high2.id);
      await sessions.complete(s, high2.id);
      await tasks.dispatch();
      expect((await sessions.next(s))?.id).toBe(low.id);
    });

    it('a dispatcher pass reads past the tasks it cannot place to one it can', async () => {
      const { tasks, sessions } = t.architect;
      await sessions.register({ name: 'w1', provider: 'claude', capacity: 1 });
      await sessions.register({ name: 'w2', provider: 'claude', capacity: 1 });
      await tasks.send({ type: 'bug_fix', prompt: 'first', target_session: 'w1' });
      // more tasks for the full w1 than one page of the pass, ahead of a task w2 can take
      t.clock.t += 1000;
      const held = await tasks.sendMany(
        Array.from({ length: 70 }, (_, i) => ({
          type: 'bug_fix',
          prompt: `for w1 ${i}`,
          target_session: 'w1',
        })),
      );
      for (const h of held)
        expect(h).toMatchObject({
          status: 'pending',
          waiting_because: expect.stringMatching(/target session w1: full/),
        });
      t.clock.t += 1000;
      const free = await tasks.send({ type: 'bug_fix', prompt: 'anyone' });
      expect(free).toMatchObject({ status: 'assigned', assigned_session: 'w2' });
      // no session has room: the pass routes nothing
      expect(await tasks.dispatch()).toEqual({ assignments: [], stopped: 'no_room', lastRouted: null });
      expect((await tasks.show(held[69]!.id)).waiting_because).toMatch(/no session can take a task now/);
    });

    it("the dispatcher's rounds reach a task behind more tasks than a pass reads", async () => {
      const { tasks, sessions } = t.architect;
      await sessions.register({ name: 'w1', provider: 'claude', capacity: 1 });
      await tasks.send({ type: 'bug_fix', prompt: 'first', target_session: 'w1' });
      t.clock.t += 1000;
      const held = await tasks.sendMany(
        Array.from({ length: 80 }, (_, i) => ({
          type: 'bug_fix',
          prompt: `for w1 ${i}`,
          target_session: 'w1',
        })),
      );
      t.clock.t += 1000;
      const behind = await tasks.send({ type: 'bug_fix', prompt: 'anyone' });
      expect(behind.status).toBe('pending');
      await sessions.register({ name: 'w2', provider: 'claude', capacity: 1 });
      // passes of 30 tasks (the rules' queue holds 100): one alone stops at its limit with w2's
      // room left, and places nothing
      const pass = await tasks.dispatch({ limit: 30 });
      expect(pass).toEqual({
        assignments: [],
        stopped: 'limit',
        lastRouted: [expect.any(Number), held.map((h) => h.id).sort()[29]],
      });
      const inOrder = held.map((h) => h.id).sort();
      const starts: (string | null)[] = [];
      const rounds = new DispatchRounds((after) => {
        starts.push(after?.[1] ?? null);
        return tasks.dispatch({ after, limit: 30 });
      });
      // round 1 reads the head (pending tasks 1–30) and looks on to 31–60
      await rounds.round();
      expect(starts).toEqual([null, inOrder[29]]);
      expect((await tasks.show(behind.id)).status).toBe('pending');
      // round 2 reads the head and looks on from 61: the task behind the 80 is placed
      await rounds.round();
      expect(starts.slice(2)).toEqual([null, inOrder[59]]);
      expect(await tasks.show(behind.id, { history: false })).toMatchObject({
        status: 'assigned',
        assigned_session: 'w2',
      });
      for (const h of [held[0]!, held[79]!]) expect((await tasks.show(h.id)).status).toBe('pending');
    });

    it('a pass says why it stopped and which task it routed last', async () => {
      const { tasks, sessions } = t.architect;
      await sessions.register({ name: 'w1', provider: 'claude', capacity: 1 });
      await tasks.send({ type: 'bug_fix', prompt: 'first', target_session: 'w1' });
      t.clock.t += 1000;
      await tasks.sendMany(
        Array.from({ length: 40 }, (_, i) => ({ type: 'bug_fix', prompt: `w1 ${i}`, target_session: 'w1' })),
      );
      t.clock.t += 1000;
      const a = await tasks.send({ type: 'bug_fix', prompt: 'a' });
      t.clock.t += 1000;
      const b = await tasks.send({ type: 'bug_fix', prompt: 'b' });
      const cursorOf = async (id: string) => {
        const [r] = await t.store.driver.query<{ service_key: number }>(
          'SELECT service_key FROM baton.architect_tasks WHERE id = $1',
          [id],
        );
        return [r!.service_key, id];
      };
      // w2 takes a, and then no session has room: b is left unread
      await sessions.register({ name: 'w2', provider: 'claude', capacity: 1 });
      const first = await tasks.dispatch({ limit: 100 });
      expect(first).toEqual({
        assignments: [{ task: a.id, session: 'w2', attempt: 1 }],
        stopped: 'no_room',
        lastRouted: await cursorOf(a.id),
      });
      // a pass on from a reads b, places it, and reaches the end of the queue
      await sessions.register({ name: 'w3', provider: 'claude', capacity: 2 });
      expect(await tasks.dispatch({ limit: 100, after: first.lastRouted! })).toEqual({
        assignments: [{ task: b.id, session: 'w3', attempt: 1 }],
        stopped: 'end',
        lastRouted: await cursorOf(b.id),
      });
    });

    it('a failure is retried up to max_retries, then the task fails', async () => {
      const { tasks, sessions } = t.architect;
      const s = await sessions.register({ name: 'w', provider: 'claude' });
      const sent = await tasks.send({ type: 'bug_fix', prompt: 'p', max_retries: 1 });
      await sessions.next(s);
      const first = await sessions.fail(s, sent.id, 'exit 1: boom');
      expect(first.status).toBe('pending');
      expect(first.retry_count).toBe(1);
      await tasks.dispatch();
      await sessions.next(s);
      const second = await sessions.fail(s, sent.id, 'exit 1: boom again');
      expect(second.status).toBe('failed');
      expect(second.error).toMatch(/boom again/);
      const h = (await tasks.show(sent.id)).history!.map((e) => e.event);
      expect(h).toEqual([
        'queued',
        'assigned',
        'started',
        'failed',
        'retried',
        'assigned',
        'started',
        'failed',
      ]);
    });

    it('keeps GAIA_GO semantics: cancel only pending/assigned, reassign clears the session, retry-all only below max_retries, clear keeps failed', async () => {
      const { tasks, sessions } = t.architect;
      const s = await sessions.register({ name: 'dev_worker1', provider: 'claude', capacity: 3 });
      await sessions.register({ name: 'dev_worker2', provider: 'claude', capacity: 3 });
      const running = await tasks.send({
        type: 'infrastructure',
        prompt: 'r',
        target_session: 'dev_worker1',
      });
      await sessions.next(s);
      await expect(tasks.cancel(running.id)).rejects.toThrow(
        /only a pending or assigned task can be cancelled/,
      );
      const moved = await tasks.reassign(running.id);
      expect(moved.reassignments).toBe(1);
      const after = await tasks.show(running.id);
      expect(after.status === 'pending' || after.assigned_session !== 'dev_worker1').toBe(true);

      const c = await tasks.send({ type: 'bug_fix', prompt: 'c' });
      expect((await tasks.cancel(c.id)).status).toBe('cancelled');

      const f1 = await tasks.send({
        type: 'bug_fix',
        prompt: 'f1',
        max_retries: 0,
        target_session: 'dev_worker1',
      });
      const f2 = await tasks.send({
        type: 'bug_fix',
        prompt: 'f2',
        max_retries: 2,
        target_session: 'dev_worker1',
      });
      for (const id of [f1.id, f2.id]) {
        let task = await tasks.show(id);
        while (task.status !== 'failed') {
          await tasks.dispatch();
          const taken = await sessions.next(s);
          task = await sessions.fail(s, taken!.id, 'no');
          if (taken!.id !== id) task = await tasks.show(id);
        }
      }
      const retried = await tasks.retryAllFailed();
      expect(retried.map((r) => r.id)).not.toContain(f1.id);
      expect(await tasks.retryAllFailed()).toHaveLength(0);

      t.clock.t += 8 * 86_400_000;
      await tasks.clear({ olderThanMs: 7 * 86_400_000 });
      expect((await tasks.show(f1.id)).status).toBe('failed');
      await expect(tasks.show(c.id)).rejects.toThrow(/no task/);
      await tasks.clear({ olderThanMs: 7 * 86_400_000, includeFailed: true });
      await expect(tasks.show(f1.id)).rejects.toThrow(/no task/);
    });

    it('refuses bad tasks with nothing stored', async () => {
      const { tasks, sessions } = t.architect;
      await sessions.register({ name: 'dev_worker1', provider: 'claude' });
      const bad: [object, RegExp][] = [
        [
          { type: 'bug_fix', prompt: 'p', target_session: 'dev_workr1' },
          /target session 'dev_workr1' does not exist \(did you mean 'dev_worker1'\?\)/,
        ],
        [{ type: 'bug_fix', prompt: 'p', target_provider: 'gpt5' }, /provider.*gpt5/],
        [{ type: 'bug_fix', prompt: 'p', priority: 11 }, /priority must be an integer from 0/],
        [{ type: 'bug_fix', prompt: 'p', timeout_minutes: 0 }, /timeout_minutes must be a positive/],
        [{ type: 'bug_fix', prompt: '' }, /prompt: must not be empty/],
        [{ type: 'bug_fix', prompt: 'p', colour: 'red' }, /invalid task/],
        // text PostgreSQL cannot store is refused by the check, naming the field, not by the insert
        [{ type: 'bug_fix', prompt: 'a\u0000b' }, /prompt: contains a NUL character/],
        [{ type: 'bug\u0000fix', prompt: 'p' }, /type: contains a NUL character/],
        [{ type: 'bug_fix', prompt: 'p', env: { A: 'x\u0000' } }, /env\.A: contains a NUL character/],
        [{ type: 'bug_fix', prompt: 'p', project: '\udc00' }, /project: contains a lone UTF-16 surrogate/],
      ];
      for (const [spec, message] of bad) {
        await expect(tasks.send(spec as never)).rejects.toThrow(message);
      }
      expect(await tasks.list()).toHaveLength(0);
    });

    it('refuses ids, names and outcomes PostgreSQL cannot store, changing nothing', async () => {
      const { tasks, sessions } = t.architect;
      const w = await sessions.register({ name: 'dev_worker1', provider: 'claude' });
      const sent = await tasks.send({ type: 'infrastructure', prompt: 'p', target_session: 'dev_worker1' });
      await sessions.next(w);
      const refusals: [() => Promise<unknown>, RegExp][] = [
        [() => tasks.show('t\u0000'), /task id contains a NUL character/],
        [() => tasks.explain('t\u0000'), /task id contains a NUL character/],
        [() => tasks.list({ type: 'x\u0000' }), /task type contains a NUL character/],
        [() => tasks.list({ session: '\ud800' }), /session name contains a lone UTF-16 surrogate/],
        [() => tasks.cancel(sent.id, 'why\u0000'), /cancel reason contains a NUL character/],
        [() => sessions.show('s\u0000'), /session name contains a NUL character/],
        [() => sessions.drain('s\u0000'), /session name contains a NUL character/],
        [() => sessions.heartbeat(w, { note: 'n\u0000' }), /heartbeat note contains a NUL character/],
        [() => sessions.complete(w, sent.id, 'out\u0000put'), /the task's result contains a NUL character/],
        [() => sessions.completeAndTakeNext(w, sent.id, 'out\u0000'), /the task's result contains a NUL/],
        [() => sessions.fail(w, sent.id, 'err\u0000'), /the task's error contains a NUL character/],
        [() => tasks.send({ type: 'bug_fix', prompt: 'p' }, { id: 'id\u0000' }), /task id contains a NUL/],
        [
          () => sessions.register({ name: 'dev_worker2', provider: 'claude', git_branch: 'b\u0000' }),
          /git_branch contains a NUL character/,
        ],
      ];
      for (const [call, message] of refusals) {
        const err = await call().catch((e: unknown) => e);
        expect(isBatonError(err, 'E_INVALID_OPTION'), String(message)).toBe(true);
        expect((err as Error).message).toMatch(message);
      }
      const after = await tasks.show(sent.id);
      expect(after.status).toBe('running');
      expect(after.history!.map((h) => h.event)).toEqual(['queued', 'assigned', 'started']);
      expect((await sessions.complete(w, sent.id, 'ok')).status).toBe('completed');
      expect(await sessions.list()).toHaveLength(1);
      // a long id is only an id that does not exist
      await expect(tasks.show('t'.repeat(3000))).rejects.toMatchObject({ code: 'E_NOT_FOUND' });
    });

    it('routes an unknown type by the default rule and refuses a send past max_queue_size', async () => {
      const { tasks } = t.architect;
      t.rules.routing.fallback_rules![0]!.max_queue_size = 2;
      const unknown = await tasks.send({ type: 'poetry', prompt: 'p' });
      const why = await tasks.explain(unknown.id);
      expect(why.text).toMatch(/task_type_unknown → route_to_default \(dev_worker1\)/);
      await tasks.send({ type: 'bug_fix', prompt: 'p' });
      const err = await tasks.send({ type: 'bug_fix', prompt: 'p' }).catch((e: unknown) => e);
      expect(isBatonError(err, 'E_INVALID_STATE')).toBe(true);
      expect((err as Error).message).toMatch(/queue is full: 2 tasks are pending/);
      expect(await tasks.list()).toHaveLength(2);
    });

    it('refuses a session name held by another live process, and takes over a stale one', async () => {
      const { sessions } = t.architect;
      await sessions.register({ name: 'w', provider: 'claude' });
      await expect(sessions.register({ name: 'w', provider: 'claude' })).rejects.toThrow(
        /registered by another live process/,
      );
      await expect(sessions.register({ name: 'x', provider: 'gpt' })).rejects.toThrow(
        /not in routing_rules.yaml supported_providers/,
      );
      t.clock.t += 6 * 60_000;
      await sessions.register({ name: 'w', provider: 'claude' });
    });
  });
}
