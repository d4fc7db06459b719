// The Architect over HTTP with the seed's routing_rules.yaml and sla_rules.yaml, on a real store
// (PGlite, and PostgreSQL when BATON_PG_URL is set): tasks sent, listed, explained and acted on,
// sessions drained, the SLA report turning a task's colour as its clock runs, and an alert
// acknowledged by the caller who did it.
import { copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Store } from '@baton/core';
import { createArchitect, loadConfig, rulesFromConfig, type Architect } from '@baton/flows';
import { quietLogger } from '../../core/test/backends.js';
import { BACKENDS } from './stores.js';
import { startServer, type RunningServer } from '../src/index.js';
import { openSse } from './sse.js';

const FIXTURE = fileURLToPath(new URL('../../../examples/architect/baton/base/', import.meta.url));

describe.each(BACKENDS)('the Architect over HTTP on $name', (backend) => {
  let store: Store;
  let server: RunningServer;
  let dir: string;
  /** The test's own handle on the same tables, for what only a session process does (registering). */
  let sessions: Architect;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-server-architect-'));
    mkdirSync(join(dir, 'base'));
    for (const f of ['routing_rules.yaml', 'sla_rules.yaml'])
      copyFileSync(join(FIXTURE, f), join(dir, 'base', f));
    store = await backend.open();
    await store.migrate();
    server = await startServer({ store, logger: quietLogger(), port: 0, configDir: dir });
    const config = await loadConfig(dir);
    sessions = await createArchitect({ store, rules: () => rulesFromConfig(config), logger: quietLogger() });
  });

  afterAll(async () => {
    await server?.close();
    await store?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('sends a task, lists, shows and explains it; refuses a malformed one naming the field', async () => {
    const sent = await call('POST', '/api/tasks', { type: 'tmux', prompt: 'list the panes', priority: 7 });
    expect(sent.status).toBe(201);
    expect(sent.body).toMatchObject({ type: 'tmux', status: 'pending', priority: 7 });
    expect(sent.body.waiting_because).toBeTruthy();
    const id = sent.body.id as string;

    const listed = await call('GET', '/api/tasks?status=pending');
    expect(listed.body.items.map((t: { id: string }) => t.id)).toContain(id);
    expect((await call('GET', '/api/tasks?status=done')).status).toBe(400);

    const shown = await call('GET', `/api/tasks/${id}`);
    expect(shown.body.history[0]).toMatchObject({ event: 'queued', reason: expect.any(String) });
    const explained = await call('GET', `/api/tasks/${id}/explain`);
    expect(explained.status).toBe(200);
    expect(explained.body.text).toContain(id);

    const bad = await call('POST', '/api/tasks', { type: 'tmux', prompt: '', colour: 'red' });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toMatch(/prompt: must not be empty/);
    // text PostgreSQL cannot store is bad input, not a server failure
    const nul = await call('POST', '/api/tasks', { type: 'tmux', prompt: 'a\u0000b' });
    expect(nul.status).toBe(400);
    expect(nul.body.error.message).toMatch(/prompt: contains a NUL character/);
    expect((await call('GET', '/api/tasks/nope')).status).toBe(404);
  });

  it('pauses, resumes, cancels and retries a task, and says why an action is refused', async () => {
    const id = (await call('POST', '/api/tasks', { type: 'git', prompt: 'pull' })).body.id as string;
    expect((await call('POST', `/api/tasks/${id}/pause`)).body.paused).toBe(true);
    expect((await call('POST', `/api/tasks/${id}/resume`)).body.paused).toBe(false);
    const cancelled = await call('POST', `/api/tasks/${id}/cancel`, { reason: 'not needed' });
    expect(cancelled.body).toMatchObject({ status: 'cancelled', error: 'not needed' });
    const again = await call('POST', `/api/tasks/${id}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('E_INVALID_STATE');
    expect((await call('POST', `/api/tasks/${id}/retry`)).body.status).toBe('pending');
    expect((await call('POST', `/api/tasks/${id}/explode`)).status).toBe(400);
    expect((await call('POST', `/api/tasks/${id}/reassign`, { to: 'nobody', extra: 1 })).status).toBe(400);
  });

  it('refuses a reload that takes the running Architect its routing rules', async () => {
    const kept = join(dir, 'routing_rules.kept');
    renameSync(join(dir, 'base', 'routing_rules.yaml'), kept);
    try {
      const r = await call('POST', '/api/config/reload');
      expect(r.status).toBe(422);
      expect(r.body.error.message).toContain('routing_rules.yaml');
      expect((await call('GET', '/api/tasks')).status).toBe(200);
    } finally {
      renameSync(kept, join(dir, 'base', 'routing_rules.yaml'));
    }
  });

  it('lists sessions and drains one', async () => {
    await sessions.sessions.register({ name: 'claude-1', provider: 'claude', adapter: 'client' });
    const list = await call('GET', '/api/sessions');
    expect(list.body.items).toEqual([expect.objectContaining({ name: 'claude-1', provider: 'claude' })]);
    const drained = await call('POST', '/api/sessions/claude-1/drain');
    expect(drained.body.status).toBe('draining');
    expect((await call('GET', '/api/sessions/claude-1')).body.status).toBe('draining');
    expect((await call('GET', '/api/sessions/ghost')).status).toBe(404);
  });

  it('streams task, session and alert changes to clients that ask for them', async () => {
    const stream = await openSse(`${server.url}/api/events?types=task,session,alert`);
    const executions = await openSse(`${server.url}/api/events?kind=workflow`);
    try {
      await stream.next((f) => f.event === 'ready');
      await executions.next((f) => f.event === 'ready');
      const id = (await call('POST', '/api/tasks', { type: 'deploy', prompt: 'ship it' })).body.id as string;
      const sent = await stream.next((f) => f.event === 'task' && f.data.id === id);
      expect(sent.data).toMatchObject({ type: 'task', status: 'pending', taskType: 'deploy', session: null });
      await call('POST', `/api/tasks/${id}/cancel`);
      await stream.next((f) => f.event === 'task' && f.data.id === id && f.data.status === 'cancelled');
      await sessions.sessions.register({ name: 'codex-1', provider: 'codex', adapter: 'client' });
      await stream.next((f) => f.event === 'session' && f.data.id === 'codex-1');
      // Drained again, so that no later test's task is assigned to it.
      await call('POST', '/api/sessions/codex-1/drain');
      // The task's workflow is an execution: the other client sees it, and no task event.
      await executions.next((f) => f.event === 'execution' && f.data.kind === 'workflow');
      expect(executions.frames.some((f) => f.event === 'task')).toBe(false);
      expect(stream.frames.some((f) => f.event === 'execution')).toBe(false);
    } finally {
      stream.close();
      executions.close();
    }
  });

  it("reports a task's SLA colour as its clock runs, and an operator acknowledges its alert", async () => {
    const id = (await call('POST', '/api/tasks', { type: 'tmux', prompt: 'slow' })).body.id as string;
    const mine = async () =>
      (await call('GET', '/api/sla')).body.tasks.find((t: { task_id: string }) => t.task_id === id);
    const fresh = await mine();
    expect(fresh.severity).toBe('ok');
    // Two minutes on a one-minute target: the task was sent two minutes ago.
    await store.driver.query(
      `UPDATE baton.architect_tasks SET created_at = created_at - 120000, service_key = service_key - 120000,
       assigned_at = assigned_at - 120000 WHERE id = $1`,
      [id],
    );
    const late = await mine();
    expect(late.severity).toBe('critical');
    expect(late.percent_used).toBeGreaterThan(100);
    expect(late.color).not.toBe(fresh.color);

    const check = await sessions.checkSla();
    const alert = check.alerts.find((a) => a.task_id === id)!;
    expect(alert).toBeDefined();
    const stream = await openSse(`${server.url}/api/events?types=alert`);
    await stream.next((f) => f.event === 'ready');
    const acked = await call('POST', `/api/alerts/${alert.id}/acknowledge`);
    // The alert's creation may reach this new stream too (its NOTIFY can land after the connect):
    // wait for the acknowledgement itself.
    const event = await stream.next(
      (f) => f.event === 'alert' && f.data.id === String(alert.id) && f.data.status === 'acknowledged',
    );
    expect(event.data).toMatchObject({ status: 'acknowledged', severity: 'critical', task: id });
    stream.close();
    expect(acked.body).toMatchObject({ id: alert.id, acknowledged_by: 'local' });
    expect(Date.parse(acked.body.acknowledged_at)).not.toBeNaN();
    const open = (await call('GET', '/api/sla')).body.open_alerts.find(
      (a: { id: number }) => a.id === alert.id,
    );
    expect(open.acknowledged_by).toBe('local');
    expect((await call('POST', '/api/alerts/999999/acknowledge')).status).toBe(404);
    expect((await call('POST', '/api/alerts/x/acknowledge')).status).toBe(400);
  });

  it("reassigns an assigned task to another session, and the task's history says who moved it where", async () => {
    for (const name of ['dev_worker1', 'dev_worker2'])
      await sessions.sessions.register({ name, provider: 'claude', adapter: 'client', capacity: 5 });
    const sent = await call('POST', '/api/tasks', {
      type: 'infrastructure',
      prompt: 'rotate the certificates',
      target_session: 'dev_worker1',
    });
    const id = sent.body.id as string;
    expect((await call('GET', `/api/tasks/${id}`)).body).toMatchObject({
      status: 'assigned',
      assigned_session: 'dev_worker1',
    });

    const moved = await call('POST', `/api/tasks/${id}/reassign`, { to: 'dev_worker2' });
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ id, reassignments: 1 });
    const shown = (await call('GET', `/api/tasks/${id}`)).body;
    expect(shown).toMatchObject({ status: 'assigned', assigned_session: 'dev_worker2', reassignments: 1 });
    expect(shown.history.map((h: { event: string }) => h.event)).toEqual([
      'queued',
      'assigned',
      'reassigned',
      'assigned',
    ]);
    expect(shown.history.find((h: { event: string }) => h.event === 'reassigned').reason).toBe(
      'reassigned by the user from dev_worker1 to dev_worker2',
    );
    for (const name of ['dev_worker1', 'dev_worker2']) await call('POST', `/api/sessions/${name}/drain`);
  });
});

describe('a server whose configuration has no routing rules', () => {
  it('answers the Architect routes with 404 and what to do', async () => {
    const store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    const server = await startServer({ store, logger: quietLogger(), port: 0 });
    try {
      const r = await fetch(`${server.url}/api/tasks`);
      expect(r.status).toBe(404);
      expect(((await r.json()) as { error: { message: string } }).error.message).toContain(
        'routing_rules.yaml',
      );
    } finally {
      await server.close();
      await store.close();
    }
  });
});
