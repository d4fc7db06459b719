// The HTTP API against a real server on loopback and a real store (PGlite, and PostgreSQL when
// BATON_PG_URL is set), with a real worker running the jobs and workflows it starts.
import { createServer, request } from 'node:http';
import { connect, createServer as createNetServer, type AddressInfo, type Socket } from 'node:net';
import { Writable } from 'node:stream';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineJob, defineSchedule, defineWorkflow, NonRetryableError, Store, Worker } from '@baton/core';
import { freshDatabase, quietLogger } from '../../core/test/backends.js';
import { BACKENDS } from './stores.js';
import { ApiKeys, startServer, type RunningServer } from '../src/index.js';
import { openSse } from './sse.js';

const echo = defineJob('api.echo', {}, async (input) => input);
const broken = defineJob('api.broken', {}, async () => {
  throw new NonRetryableError('broken on purpose');
});
// Once a year: registered, never fired during a test.
const yearly = defineSchedule('api.yearly', { cron: '0 0 1 1 *', job: echo, input: { from: 'cron' } });
const approval = defineWorkflow('api.approval', {}, async (ctx) => {
  const decision = await ctx.waitForSignal<{ ok: boolean }>('decision');
  return { decided: decision };
});

async function openStore(backend: (typeof BACKENDS)[number]): Promise<Store> {
  const store = await backend.open();
  await store.migrate();
  return store;
}

/** Runs `check` until it stops throwing (an assertion about state that settles), and returns its value. */
async function settled<T>(check: () => Promise<T>, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > end) throw err;
      await new Promise((r) => setTimeout(r, 25));
    }
  }
}

interface Reply {
  status: number;
  body: any; // eslint-disable-line @typescript-eslint/no-explicit-any
  headers: Headers;
}

describe.each(BACKENDS)('HTTP API on $name', (backend) => {
  let store: Store;
  let worker: Worker;
  let server: RunningServer;
  const logLines: string[] = [];
  const keys: Record<'viewer' | 'operator' | 'admin', string> = { viewer: '', operator: '', admin: '' };

  async function call(
    method: string,
    path: string,
    options: { key?: string; body?: unknown; raw?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...options.headers };
    if (options.key) headers.authorization = `Bearer ${options.key}`;
    let body: string | undefined = options.raw;
    if (options.body !== undefined) body = JSON.stringify(options.body);
    if (body !== undefined) headers['content-type'] = 'application/json';
    const res = await fetch(`${server.url}${path}`, { method, headers, body });
    // An event stream never ends: its status and headers are the reply.
    if (res.headers.get('content-type')?.startsWith('text/event-stream')) {
      await res.body?.cancel();
      return { status: res.status, body: '', headers: res.headers };
    }
    const text = await res.text();
    const isJson = res.headers.get('content-type')?.startsWith('application/json');
    return { status: res.status, body: isJson ? JSON.parse(text) : text, headers: res.headers };
  }

  beforeAll(async () => {
    store = await openStore(backend);
    worker = new Worker(store, {
      jobs: [echo, broken],
      workflows: [approval],
      schedules: [yearly],
      pollInterval: 50,
    });
    await worker.start();
    const sink = new Writable({
      write(chunk, _enc, done) {
        logLines.push(String(chunk));
        done();
      },
    });
    server = await startServer({ store, logger: pino({ level: 'info' }, sink), port: 0 });
  });

  afterAll(async () => {
    await server?.close();
    await worker?.stop({ deadline: '5s' });
    await store?.close();
  });

  it('serves health, readiness and an OpenAPI 3.1 document without a key', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(server.auth).toBe('auto');
    expect(await call('GET', '/health')).toMatchObject({ status: 200, body: { status: 'ok' } });
    expect(await call('GET', '/ready')).toMatchObject({ status: 200, body: { status: 'ready' } });
    const doc = await call('GET', '/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(Object.keys(doc.body.paths)).toEqual(
      expect.arrayContaining(['/api/executions', '/api/executions/{id}', '/api/keys', '/health']),
    );
  });

  it('before any key exists, a local caller may do everything; starting and reading a job', async () => {
    const started = await call('POST', '/api/executions', {
      body: { kind: 'job', name: 'api.echo', input: { hello: 'world' } },
    });
    expect(started.status).toBe(201);
    expect(started.body.created).toBe(true);
    const done = await settled(async () => {
      const r = await call('GET', `/api/executions/${started.body.id}`);
      expect(r.body.status).toBe('completed');
      return r.body;
    });
    expect(done).toMatchObject({ kind: 'job', name: 'api.echo', output: { hello: 'world' } });
    expect(new Date(done.createdAt).toISOString()).toBe(done.createdAt);
  });

  it('answers errors as { error: { code, message } } with the matching status', async () => {
    const missing = await call('GET', '/api/executions/no-such-id');
    expect(missing.status).toBe(404);
    expect(missing.body.error).toMatchObject({
      code: 'E_NOT_FOUND',
      message: expect.stringContaining('no-such-id'),
    });

    const badLimit = await call('GET', '/api/executions?limit=0');
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.error.code).toBe('E_INPUT_INVALID');
    expect(badLimit.body.error.message).toContain('limit');

    const badStatus = await call('GET', '/api/executions?status=done');
    expect(badStatus.status).toBe(400);
    expect(badStatus.body.error.message).toContain("'done' is not one of queued");

    // Text PostgreSQL cannot hold is bad input, not a server failure (found by the fuzz test).
    for (const filter of ['name', 'queue', 'parent', 'cursor', 'q']) {
      const nul = await call('GET', `/api/executions?${filter}=a%00b`);
      expect(nul.status, filter).toBe(400);
      expect(nul.body.error.message, filter).toContain('NUL character');
    }

    const notJson = await call('POST', '/api/executions', { raw: '{"kind": "job",' });
    expect(notJson.status).toBe(400);
    expect(notJson.body.error).toMatchObject({
      code: 'E_INPUT_INVALID',
      message: 'the request body is not valid JSON',
    });

    const unknownField = await call('POST', '/api/executions', {
      body: { kind: 'job', name: 'api.echo', inptu: 1 },
    });
    expect(unknownField.status).toBe(400);
    expect(unknownField.body.error.message).toContain('inptu');

    const unknownJob = await call('POST', '/api/executions', { body: { kind: 'job', name: 'api.nope' } });
    expect(unknownJob.status).toBe(404);
    expect(unknownJob.body.error.code).toBe('E_UNKNOWN_JOB');

    const tooBig = await call('POST', '/api/executions', {
      body: { kind: 'job', name: 'api.echo', input: 'x'.repeat(1024 * 1024 + 1) },
    });
    expect(tooBig.status).toBe(413);
    expect(tooBig.body.error.code).toBe('E_INPUT_INVALID');

    const noRoute = await call('GET', '/api/nothing-here');
    expect(noRoute.status).toBe(404);
    expect(noRoute.body.error.code).toBe('E_NOT_FOUND');
  });

  it('lists with filters, search and cursor paging', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await call('POST', '/api/executions', {
        body: { kind: 'job', name: 'api.echo', input: i, queue: 'paging', delayMs: 3_600_000 },
      });
      ids.push(r.body.id);
    }
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const r: Reply = await call(
        'GET',
        `/api/executions?queue=paging&limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(3);
      seen.push(...r.body.items.map((e: { id: string }) => e.id));
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor !== null && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual([...ids].reverse());
    // Exactly one page: no next cursor (the page is read with one row more, which is not sent).
    const whole = await call('GET', '/api/executions?queue=paging&limit=7');
    expect(whole.body.items).toHaveLength(7);
    expect(whole.body.nextCursor).toBeNull();

    // Summaries: the same page, without payloads and keys.
    const full = await call('GET', '/api/executions?queue=paging&limit=2');
    const summary = await call('GET', '/api/executions?queue=paging&limit=2&view=summary');
    expect(summary.status).toBe(200);
    expect(summary.body.nextCursor).toBe(full.body.nextCursor);
    const { input, output, errors, progress, idempotencyKey, concurrencyKey, concurrencyLimit, ...rest } =
      full.body.items[0];
    expect(input).toBe(6);
    expect([output, errors, progress, idempotencyKey, concurrencyKey, concurrencyLimit]).toEqual([
      null,
      [],
      null,
      null,
      null,
      null,
    ]);
    expect(summary.body.items[0]).toEqual(rest);
    expect((await call('GET', '/api/executions?view=brief')).status).toBe(400);

    const search = await call('GET', `/api/executions?q=${ids[2]!.slice(-12)}`);
    expect(search.body.items.map((e: { id: string }) => e.id)).toEqual([ids[2]]);
    const byName = await call('GET', '/api/executions?q=API.ECH&queue=paging&status=queued');
    expect(byName.body.items).toHaveLength(7);
    const future = await call(
      'GET',
      `/api/executions?queue=paging&since=${encodeURIComponent('2999-01-01T00:00:00Z')}`,
    );
    expect(future.body.items).toHaveLength(0);
  });

  it('cancels and retries one by one and in bulk, reporting what it could not do', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      const r = await call('POST', '/api/executions', {
        body: { kind: 'job', name: 'api.echo', input: i, queue: 'bulk', delayMs: 3_600_000 },
      });
      ids.push(r.body.id);
    }
    const one = await call('POST', `/api/executions/${ids[0]}/cancel`);
    expect(one).toMatchObject({ status: 200, body: { status: 'cancelled' } });
    const again = await call('POST', `/api/executions/${ids[0]}/cancel`);
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('E_INVALID_STATE');

    const byFilter = await call('POST', '/api/executions/bulk/cancel', {
      body: { filter: { queue: 'bulk' } },
    });
    expect(byFilter.status, JSON.stringify(byFilter.body)).toBe(200);
    expect(byFilter.body).toEqual({ done: [ids[2], ids[1]], failed: [], more: false });

    const retried = await call('POST', '/api/executions/bulk/retry', {
      body: { ids: [ids[0], 'no-such-id'] },
    });
    expect(retried.body.done).toEqual([ids[0]]);
    expect(retried.body.failed).toEqual([
      { id: 'no-such-id', code: 'E_NOT_FOUND', message: expect.stringContaining('no-such-id') },
    ]);
    expect((await call('GET', `/api/executions/${ids[0]}`)).body.status).toBe('queued');

    const both = await call('POST', '/api/executions/bulk/retry', {
      body: { ids: [ids[1]], filter: { queue: 'bulk' } },
    });
    expect(both.status).toBe(400);
    expect(both.body.error.message).toContain('either ids or filter');

    const failed = await call('POST', '/api/executions', { body: { kind: 'job', name: 'api.broken' } });
    await settled(async () =>
      expect((await call('GET', `/api/executions/${failed.body.id}`)).body.status).toBe('failed'),
    );
    const retryOne = await call('POST', `/api/executions/${failed.body.id}/retry`);
    expect(retryOne).toMatchObject({ status: 200, body: { status: 'queued' } });
  });

  it("shows queues and workers, and lets an operator set a queue's limits", async () => {
    const queues = await call('GET', '/api/queues');
    expect(queues.status).toBe(200);
    // The paging test left seven jobs delayed by an hour.
    expect(queues.body.items).toContainEqual({
      name: 'paging',
      ready: 0,
      scheduled: 7,
      running: 0,
      waiting: 0,
      concurrencyLimit: null,
      rateLimit: null,
      recent: {
        windowMs: 300_000,
        completed: 0,
        failed: 0,
        throughputPerSecond: 0,
        latencyMs: null,
        runMs: null,
      },
    });
    const set = await call('PUT', '/api/queues/paging/limits', {
      body: { concurrency: 3, rateLimit: { limit: 10, intervalMs: 1000 } },
    });
    expect(set.body).toMatchObject({
      name: 'paging',
      concurrencyLimit: 3,
      rateLimit: { limit: 10, intervalMs: 1000 },
    });
    const kept = await call('PUT', '/api/queues/paging/limits', { body: { rateLimit: null } });
    expect(kept.body).toMatchObject({ concurrencyLimit: 3, rateLimit: null });
    expect(
      (await call('PUT', '/api/queues/paging/limits', { body: { concurrency: null } })).body.concurrencyLimit,
    ).toBeNull();
    const bad = await call('PUT', '/api/queues/paging/limits', { body: { concurrency: 0 } });
    expect(bad.status).toBe(400);
    expect(bad.body.error.message).toContain('concurrency');

    const schedules = await call('GET', '/api/schedules');
    expect(schedules.body.items).toEqual([
      {
        name: 'api.yearly',
        cron: '0 0 1 1 *',
        timezone: null,
        job: 'api.echo',
        queue: 'default',
        input: { from: 'cron' },
        missed: expect.any(String),
        nextFireAt: `${new Date().getUTCFullYear() + 1}-01-01T00:00:00.000Z`,
        lastFireAt: null,
      },
    ]);

    const workers = await call('GET', '/api/workers');
    expect(workers.status).toBe(200);
    const w = workers.body.items.find((x: { names: string[] }) => x.names.includes('api.echo'));
    expect(w).toMatchObject({ pid: process.pid, live: true, running: 0, queues: ['default'] });
    expect(w.heartbeatAgeMs).toBeGreaterThanOrEqual(0);
    expect(w.heartbeatAgeMs).toBeLessThanOrEqual(w.leaseMs);
  });

  it('starts a workflow, signals it, and shows its history', async () => {
    const started = await call('POST', '/api/executions', {
      body: { kind: 'workflow', name: 'api.approval', id: `approval-${backend.name}` },
    });
    expect(started).toMatchObject({ status: 201, body: { id: `approval-${backend.name}`, created: true } });
    await settled(async () =>
      expect((await call('GET', `/api/executions/${started.body.id}`)).body.status).toBe('waiting'),
    );
    const sent = await call('POST', `/api/executions/${started.body.id}/signals/decision`, {
      body: { payload: { ok: true } },
    });
    expect(sent).toMatchObject({ status: 202, body: { sent: true } });
    const done = await settled(async () => {
      const r = await call('GET', `/api/executions/${started.body.id}`);
      expect(r.body.status).toBe('completed');
      return r.body;
    });
    expect(done.output).toEqual({ decided: { ok: true } });
    const history = await call('GET', `/api/executions/${started.body.id}/history`);
    expect(history.status).toBe(200);
    expect(history.body.execution.id).toBe(started.body.id);
    expect(history.body.history.map((h: { kind: string; name: string }) => [h.kind, h.name])).toContainEqual([
      'signal',
      'decision',
    ]);
    const toJob = await call('POST', `/api/executions/${started.body.id}/signals/decision`, { body: {} });
    expect(toJob.status).toBe(409);
  });

  it('streams execution changes live to every client through one listener, filtered, resumable with Last-Event-ID', async () => {
    const url = `${server.url}/api/events`;
    const echoes = await openSse(`${url}?name=api.echo`);
    const completed = await openSse(`${url}?status=completed&kind=job`);
    try {
      expect(echoes.status).toBe(200);
      await echoes.next((f) => f.event === 'ready');
      await completed.next((f) => f.event === 'ready');
      // Two clients, one registration in the database.
      expect(await store.driver.query('SELECT id FROM baton.feed_listeners')).toHaveLength(1);

      const start = async () =>
        (await call('POST', '/api/executions', { body: { kind: 'job', name: 'api.echo', input: { n: 1 } } }))
          .body.id as string;
      const first = await start();
      await echoes.next((f) => f.data?.id === first && f.data.status === 'completed');
      const ofFirst = echoes.frames.filter((f) => f.data?.id === first);
      expect(ofFirst.map((f) => f.data.status)).toEqual(['queued', 'running', 'completed']);
      expect(ofFirst[0]!.data).toMatchObject({ kind: 'job', queue: 'default', name: 'api.echo' });
      expect(Date.parse(ofFirst[0]!.data.at)).not.toBeNaN();
      const seqs = echoes.frames.map((f) => Number(f.id!.split('-')[1]));
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      await completed.next((f) => f.data?.id === first);
      expect(completed.frames.filter((f) => f.event === 'execution').map((f) => f.data.status)).not.toContain(
        'running',
      );

      // A client that drops and comes back gets exactly what it missed.
      const lastSeen = echoes.frames.at(-1)!.id!;
      echoes.close();
      const missed = [await start(), await start()];
      for (const id of missed) await completed.next((f) => f.data?.id === id);
      const resumed = await openSse(`${url}?name=api.echo`, { 'last-event-id': lastSeen });
      try {
        for (const id of missed)
          await resumed.next((f) => f.data?.id === id && f.data.status === 'completed');
        const replayed = resumed.frames.filter((f) => f.event === 'execution');
        expect(replayed.map((f) => f.data.id).sort()).toEqual([...missed, ...missed, ...missed].sort());
        expect(replayed.every((f) => f.data.id !== first)).toBe(true);
      } finally {
        resumed.close();
      }

      // An id this server never gave (another run of it, or a window long gone): reload.
      const stale = await openSse(url, { 'last-event-id': 'ffffffffff-7' });
      expect((await stale.next((f) => f.event === 'reset')).data.reason).toMatch(/another run|missed/);
      stale.close();
      const bad = await call('GET', '/api/events?status=finished');
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/'finished' is not one of queued/);
    } finally {
      echoes.close();
      completed.close();
    }
  });

  it('once a key exists every /api call needs one, and each route checks its role', async () => {
    // The first key is made by a local caller, who is admin while no key exists.
    const first = await call('POST', '/api/keys', { body: { role: 'admin', name: 'first' } });
    expect(first.status).toBe(201);
    expect(first.body.key).toMatch(/^bk_[0-9a-f]{16}_/);
    keys.admin = first.body.key;
    for (const role of ['viewer', 'operator'] as const) {
      const r = await call('POST', '/api/keys', { key: keys.admin, body: { role } });
      keys[role] = r.body.key;
    }
    expect((await call('GET', '/api/executions')).status).toBe(401);
    expect((await call('GET', '/api/executions', { key: 'bk_0000000000000000_nope' })).status).toBe(401);
    expect((await call('GET', '/api/executions', { headers: { 'x-api-key': keys.viewer } })).status).toBe(
      200,
    );
    // Health stays open for load balancers.
    expect((await call('GET', '/health')).status).toBe(200);

    const doc = (await call('GET', '/openapi.json')).body;
    const order = ['viewer', 'operator', 'admin'] as const;
    let checked = 0;
    const publicRoutes: string[] = [];
    for (const [path, ops] of Object.entries<Record<string, { 'x-baton-role'?: string }>>(doc.paths)) {
      for (const [method, op] of Object.entries(ops)) {
        const needed = op['x-baton-role'];
        if (needed === undefined) {
          publicRoutes.push(path);
          continue;
        }
        expect(order).toContain(needed);
        const url = path.replace(/\{[^}]+\}/g, 'x');
        const body = method === 'get' ? undefined : {};
        expect(
          (await call(method.toUpperCase(), url, { body })).status,
          `${method} ${path} without a key`,
        ).toBe(401);
        for (const role of order) {
          const r = await call(method.toUpperCase(), url, { key: keys[role], body });
          const allowed = order.indexOf(role) >= order.indexOf(needed as (typeof order)[number]);
          if (allowed) expect([401, 403], `${method} ${path} as ${role}`).not.toContain(r.status);
          else {
            expect(r.status, `${method} ${path} as ${role}`).toBe(403);
            expect(r.body.error.code).toBe('E_FORBIDDEN');
          }
          checked++;
        }
      }
    }
    expect(checked).toBeGreaterThanOrEqual(3 * 14);
    expect(publicRoutes.sort()).toEqual(['/health', '/ready']);
  });

  it('tells callers their role, and shows stack traces to operators, never to viewers', async () => {
    expect((await call('GET', '/api/me', { key: keys.viewer })).body).toEqual({
      role: 'viewer',
      keyId: expect.stringMatching(/^[0-9a-f]{16}$/),
      subject: null,
    });
    const started = await call('POST', '/api/executions', {
      key: keys.operator,
      body: { kind: 'job', name: 'api.broken' },
    });
    const id = started.body.id as string;
    const asOperator = await settled(async () => {
      const r = await call('GET', `/api/executions/${id}`, { key: keys.operator });
      expect(r.body.status).toBe('failed');
      return r.body;
    });
    expect(asOperator.error.stack).toContain('broken on purpose');
    for (const path of [
      `/api/executions/${id}`,
      `/api/executions/${id}/history`,
      `/api/executions?name=api.broken`,
    ]) {
      const text = JSON.stringify((await call('GET', path, { key: keys.viewer })).body);
      expect(text, path).toContain('broken on purpose');
      expect(text, path).not.toContain('"stack"');
    }
  });

  it('revoking a key refuses it on the next call; keys are listed without their secrets', async () => {
    const made = await call('POST', '/api/keys', {
      key: keys.admin,
      body: { role: 'viewer', name: 'short-lived' },
    });
    expect((await call('GET', '/api/executions', { key: made.body.key })).status).toBe(200);
    const revoked = await call('DELETE', `/api/keys/${made.body.info.id}`, { key: keys.admin });
    expect(revoked.body.revokedAt).not.toBeNull();
    expect((await call('GET', '/api/executions', { key: made.body.key })).status).toBe(401);
    const listed = await call('GET', '/api/keys', { key: keys.admin });
    expect(listed.body.items.map((k: { name: string }) => k.name)).toContain('short-lived');
    expect(JSON.stringify(listed.body)).not.toContain(made.body.key.slice(20));
  });

  it('serves Prometheus metrics to a viewer: requests by route pattern and status, queue depth', async () => {
    expect((await call('GET', '/metrics')).status).toBe(401);
    const res = await fetch(`${server.url}/metrics`, { headers: { authorization: `Bearer ${keys.viewer}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    expect(text).toMatch(
      /^baton_http_requests_total\{method="GET",route="\/api\/executions\/:id",status="200"\} \d+$/m,
    );
    expect(text).toMatch(
      /^baton_http_requests_total\{method="GET",route="\/api\/executions\/:id",status="404"\} \d+$/m,
    );
    expect(text).toMatch(
      /^baton_http_request_duration_seconds_bucket\{le="0.005",method="GET",route="\/api\/executions"\} \d+$/m,
    );
    // The paging test left seven delayed jobs queued.
    expect(text).toMatch(/^baton_queue_depth\{queue="paging",status="queued"\} 7$/m);
    // No URL (an id) as a label.
    expect(text).not.toMatch(/route="\/api\/executions\/[0-9a-f]{8}-/);
  });

  it('logs one line per request with its request id, and never a key', async () => {
    const r = await call('GET', '/api/executions?limit=1', {
      key: keys.viewer,
      headers: { 'x-request-id': 'trace-me-123' },
    });
    expect(r.headers.get('x-request-id')).toBe('trace-me-123');
    const line = logLines.map((l) => JSON.parse(l)).find((l) => l.requestId === 'trace-me-123');
    expect(line).toMatchObject({ method: 'GET', route: '/api/executions', status: 200 });
    const all = logLines.join('');
    for (const key of Object.values(keys)) expect(all).not.toContain(key.slice(20));
    expect(all).not.toMatch(/authorization/i);
  });
});

describe.each(BACKENDS)('readiness on $name', (backend) => {
  it('answers 503 with the code while the schema is behind or ahead of this Baton, 200 once it is current', async () => {
    const store = await openStore(backend);
    const server = await startServer({ store, logger: quietLogger(), port: 0 });
    const ready = async () => {
      const res = await fetch(`${server.url}/ready`);
      return { status: res.status, body: await res.json() };
    };
    try {
      expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
      const [last] = await store.driver.query<{ version: number; name: string }>(
        'DELETE FROM baton.migrations WHERE version = (SELECT max(version) FROM baton.migrations) RETURNING version, name',
      );
      // The code only: the message would name the database's location.
      expect(await ready()).toEqual({
        status: 503,
        body: { status: 'not ready', problem: 'E_INVALID_STATE' },
      });
      await store.driver.query('INSERT INTO baton.migrations (version, name) VALUES ($1, $2)', [
        last!.version,
        last!.name,
      ]);
      expect((await ready()).status).toBe(200);
      await store.driver.query(`INSERT INTO baton.migrations (version, name) VALUES ($1, 'a newer Baton')`, [
        last!.version + 1,
      ]);
      expect(await ready()).toEqual({
        status: 503,
        body: { status: 'not ready', problem: 'E_SCHEMA_TOO_NEW' },
      });
      // Health is the process's: it stays up.
      expect((await fetch(`${server.url}/health`)).status).toBe(200);
    } finally {
      await server.close();
      await store.close();
    }
  });
});

describe('readiness while PostgreSQL is unreachable', () => {
  it.skipIf(!process.env.BATON_PG_URL)(
    'answers 503 while the database cannot be reached, and 200 again once it can',
    async () => {
      const target = new URL(await freshDatabase());
      // The server reaches PostgreSQL through a TCP relay on loopback that the test cuts and restores.
      const sockets = new Set<Socket>();
      const relay = createNetServer((downstream) => {
        const upstream = connect(Number(target.port || 5432), target.hostname);
        for (const [a, b] of [
          [downstream, upstream],
          [upstream, downstream],
        ] as const) {
          sockets.add(a);
          a.pipe(b);
          a.on('error', () => b.destroy());
          a.on('close', () => {
            sockets.delete(a);
            b.destroy();
          });
        }
      });
      const listen = () => new Promise<void>((r) => relay.listen(port, '127.0.0.1', r));
      let port = 0;
      await listen();
      port = (relay.address() as AddressInfo).port;
      const viaRelay = new URL(target);
      viaRelay.host = `127.0.0.1:${port}`;
      const store = await Store.open({ databaseUrl: viaRelay.toString(), logger: quietLogger() });
      await store.migrate();
      const server = await startServer({ store, logger: quietLogger(), port: 0 });
      const ready = async () => {
        const res = await fetch(`${server.url}/ready`);
        return { status: res.status, body: await res.json() };
      };
      try {
        expect((await ready()).status).toBe(200);
        await new Promise<void>((r) => {
          relay.close(() => r());
          for (const s of sockets) s.destroy();
        });
        expect(await ready()).toEqual({
          status: 503,
          body: { status: 'not ready', problem: 'E_DATABASE_UNAVAILABLE' },
        });
        await listen();
        expect(await ready()).toEqual({ status: 200, body: { status: 'ready' } });
      } finally {
        await server.close();
        await store.close();
        relay.close();
      }
    },
  );
});

describe('rate limits', () => {
  it("answer 429 with Retry-After past a caller's burst, per address without keys and per key with them", async () => {
    const store = await openStore(BACKENDS[0]!);
    const limit = { perSecond: 1, burst: 2 };
    const statuses = async (url: string, n: number, headers: Record<string, string> = {}) => {
      const out: number[] = [];
      for (let i = 0; i < n; i++)
        out.push((await fetch(`${url}/api/executions?limit=1`, { headers })).status);
      return out;
    };
    try {
      const open = await startServer({ store, logger: quietLogger(), port: 0, rateLimit: limit });
      try {
        expect(await statuses(open.url, 3)).toEqual([200, 200, 429]);
        const over = await fetch(`${open.url}/api/executions`);
        expect(over.headers.get('retry-after')).toBe('1');
        expect(((await over.json()) as { error: { code: string } }).error.code).toBe('E_RATE_LIMITED');
        // Health is outside the limit (load balancers poll it).
        expect((await fetch(`${open.url}/health`)).status).toBe(200);
      } finally {
        await open.close();
      }
      const keys = new ApiKeys(store.driver);
      const a = (await keys.create('viewer')).key;
      const b = (await keys.create('viewer')).key;
      const locked = await startServer({ store, logger: quietLogger(), port: 0, rateLimit: limit });
      try {
        expect(await statuses(locked.url, 3, { authorization: `Bearer ${a}` })).toEqual([200, 200, 429]);
        expect(await statuses(locked.url, 1, { authorization: `Bearer ${b}` })).toEqual([200]);
      } finally {
        await locked.close();
      }
    } finally {
      await store.close();
    }
  });
});

describe('bearer JWTs', () => {
  const SECRET = 'a-shared-secret-of-at-least-32-bytes!';
  const sign = (
    claims: Record<string, unknown>,
    key: Parameters<SignJWT['sign']>[0],
    alg = 'HS256',
    exp = '1h',
  ) =>
    new SignJWT(claims)
      .setProtectedHeader({ alg, kid: 'k1' })
      .setIssuedAt()
      .setExpirationTime(exp)
      .setIssuer('https://idp.example')
      .sign(key);
  const hs = new TextEncoder().encode(SECRET);

  it('HS256: the role comes from the claim; expired, forged, unsigned and role-less tokens are refused', async () => {
    const store = await openStore(BACKENDS[0]!);
    const server = await startServer({
      store,
      logger: quietLogger(),
      port: 0,
      jwt: { secret: SECRET, issuer: 'https://idp.example' },
    });
    const call = async (token: string | undefined, method = 'GET', path = '/api/executions') => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
      return {
        status: res.status,
        body: (await res.json()) as { error?: { code: string; message: string } },
      };
    };
    try {
      expect(server.auth).toBe('required');
      expect((await call(undefined)).status).toBe(401);
      const viewer = await sign({ role: 'viewer', sub: 'ada' }, hs);
      expect((await call(viewer)).status).toBe(200);
      expect((await call(viewer, 'POST', '/api/executions/x/cancel')).status).toBe(403);
      expect(
        (await call(await sign({ role: 'operator', sub: 'bob' }, hs), 'POST', '/api/executions/x/cancel'))
          .status,
      ).toBe(404);

      const refused = async (token: string, message: string) => {
        const r = await call(token);
        expect(r.status, message).toBe(401);
        expect(r.body.error).toMatchObject({
          code: 'E_UNAUTHENTICATED',
          message: expect.stringContaining(message),
        });
      };
      await refused(await sign({ role: 'viewer' }, hs, 'HS256', '-1m'), 'it has expired');
      await refused(
        await sign({ role: 'viewer' }, new TextEncoder().encode('another-secret-of-32-bytes-or-more!!')),
        'its signature does not verify',
      );
      await refused(await sign({ role: 'root' }, hs), "'role' claim must be one of viewer, operator, admin");
      await refused(await sign({ sub: 'no-role' }, hs), "'role' claim must be one of");
      // the subject is recorded as who acted: text PostgreSQL cannot store is refused
      await refused(
        await sign({ role: 'operator', sub: 'ops\u0000' }, hs),
        "'sub' claim contains a NUL character",
      );
      const payload = Buffer.from(
        JSON.stringify({ role: 'admin', exp: Math.floor(Date.now() / 1000) + 60 }),
      ).toString('base64url');
      const unsigned = `${Buffer.from(JSON.stringify({ alg: 'none' })).toString('base64url')}.${payload}.`;
      expect((await call(unsigned)).status).toBe(401);
      const otherIssuer = await new SignJWT({ role: 'viewer' })
        .setProtectedHeader({ alg: 'HS256' })
        .setExpirationTime('1h')
        .setIssuer('https://evil.example')
        .sign(hs);
      await refused(otherIssuer, 'its iss claim does not match');
    } finally {
      await server.close();
      await store.close();
    }
  });

  /** An identity provider on loopback publishing `keys` as its JWKS; the test closes it. */
  async function serveJwks(keys: JWK[]): Promise<{ url: string; close(): void }> {
    const idp = createServer((_req, res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys })),
    );
    await new Promise<void>((r) => idp.listen(0, '127.0.0.1', r));
    return {
      url: `http://127.0.0.1:${(idp.address() as AddressInfo).port}/jwks.json`,
      close: () => idp.close(),
    };
  }

  it("ES256 with the provider's JWKS; a token of a key not in it is refused", async () => {
    const { publicKey, privateKey } = await generateKeyPair('ES256');
    const other = await generateKeyPair('ES256');
    const idp = await serveJwks([{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }]);
    const store = await openStore(BACKENDS[0]!);
    const server = await startServer({ store, logger: quietLogger(), port: 0, jwt: { jwksUrl: idp.url } });
    try {
      const get = async (token: string) =>
        (await fetch(`${server.url}/api/executions`, { headers: { authorization: `Bearer ${token}` } }))
          .status;
      expect(await get(await sign({ role: 'viewer' }, privateKey, 'ES256'))).toBe(200);
      expect(await get(await sign({ role: 'viewer' }, other.privateKey, 'ES256'))).toBe(401);
      // An HS256 token is refused by a JWKS server, whatever its secret.
      expect(await get(await sign({ role: 'admin' }, hs))).toBe(401);
    } finally {
      await server.close();
      await store.close();
      idp.close();
    }
  });

  it('RS256 with the JWKS, the role from the configured claim (--jwt-role-claim) and nowhere else', async () => {
    const { publicKey, privateKey } = await generateKeyPair('RS256');
    const other = await generateKeyPair('RS256');
    const idp = await serveJwks([{ ...(await exportJWK(publicKey)), kid: 'k1', alg: 'RS256', use: 'sig' }]);
    const CLAIM = 'https://baton.example/role';
    const store = await openStore(BACKENDS[0]!);
    const server = await startServer({
      store,
      logger: quietLogger(),
      port: 0,
      jwt: { jwksUrl: idp.url, roleClaim: CLAIM, issuer: 'https://idp.example' },
    });
    const call = async (token: string, method = 'GET', path = '/api/me') => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${token}` },
      });
      return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
    };
    try {
      const operator = await sign({ [CLAIM]: 'operator', sub: 'ops-bot' }, privateKey, 'RS256');
      expect(await call(operator)).toEqual({
        status: 200,
        body: { role: 'operator', keyId: null, subject: 'ops-bot' },
      });
      // An operator may act: the cancel gets as far as the missing execution.
      expect((await call(operator, 'POST', '/api/executions/x/cancel')).status).toBe(404);
      const viewer = await sign({ [CLAIM]: 'viewer', role: 'admin' }, privateKey, 'RS256');
      expect((await call(viewer)).body.role).toBe('viewer');
      expect((await call(viewer, 'POST', '/api/executions/x/cancel')).status).toBe(403);
      // `role` is not the claim this server reads.
      const unread = await call(await sign({ role: 'admin' }, privateKey, 'RS256'));
      expect(unread.status).toBe(401);
      expect(unread.body.error.message).toContain(`'${CLAIM}' claim must be one of viewer, operator, admin`);
      const forged = await call(await sign({ [CLAIM]: 'admin' }, other.privateKey, 'RS256'));
      expect(forged.status).toBe(401);
      expect(forged.body.error.message).toContain('its signature does not verify');
      const admin = await sign({ [CLAIM]: 'admin' }, privateKey, 'RS256');
      expect((await call(admin, 'GET', '/api/keys')).status).toBe(200);
    } finally {
      await server.close();
      await store.close();
      idp.close();
    }
  });

  it('refuses settings that cannot work', async () => {
    const store = await openStore(BACKENDS[0]!);
    try {
      await expect(
        startServer({ store, logger: quietLogger(), port: 0, jwt: { secret: 'short' } }),
      ).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        message: 'the JWT secret is 5 bytes; HS256 needs at least 32',
      });
      await expect(
        startServer({
          store,
          logger: quietLogger(),
          port: 0,
          jwt: { secret: SECRET, jwksUrl: 'http://127.0.0.1:1/jwks' },
        }),
      ).rejects.toMatchObject({ message: expect.stringContaining('either a secret (HS256) or a JWKS URL') });
      await expect(
        startServer({ store, logger: quietLogger(), port: 0, jwt: { jwksUrl: 'not a url' } }),
      ).rejects.toMatchObject({
        message: "the JWKS URL 'not a url' is not a URL",
      });
    } finally {
      await store.close();
    }
  });
});

describe('CORS', () => {
  it('is off by default, answers preflights for the configured origins only, and refuses a malformed origin', async () => {
    const store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    const plain = await startServer({ store, logger: quietLogger(), port: 0 });
    const open = await startServer({
      store,
      logger: quietLogger(),
      port: 0,
      corsOrigins: ['https://app.example', 'http://localhost:5173'],
    });
    try {
      const preflight = (url: string, origin: string) =>
        fetch(`${url}/api/executions`, {
          method: 'OPTIONS',
          headers: {
            origin,
            'access-control-request-method': 'GET',
            'access-control-request-headers': 'authorization',
          },
        });
      const none = await fetch(`${plain.url}/api/executions`, { headers: { origin: 'https://app.example' } });
      expect(none.headers.get('access-control-allow-origin')).toBeNull();

      const ok = await preflight(open.url, 'https://app.example');
      expect(ok.status).toBe(204);
      expect(ok.headers.get('access-control-allow-origin')).toBe('https://app.example');
      expect(ok.headers.get('access-control-allow-headers')).toMatch(/authorization/i);
      expect(ok.headers.get('access-control-allow-credentials')).toBeNull();
      const get = await fetch(`${open.url}/api/executions`, { headers: { origin: 'http://localhost:5173' } });
      expect(get.status).toBe(200);
      expect(get.headers.get('access-control-allow-origin')).toBe('http://localhost:5173');
      expect(get.headers.get('access-control-expose-headers')).toMatch(/x-request-id/i);

      const other = await preflight(open.url, 'https://evil.example');
      expect(other.headers.get('access-control-allow-origin')).toBeNull();

      for (const bad of ['https://app.example/', 'app.example', 'ftp://x.example', 'https://a.example/path'])
        await expect(
          startServer({ store, logger: quietLogger(), port: 0, corsOrigins: [bad] }),
          bad,
        ).rejects.toThrow(/is not an origin/);
    } finally {
      await plain.close();
      await open.close();
      await store.close();
    }
  });
});

describe('event stream credentials', () => {
  it('ends a stream whose key is revoked after it opened', async () => {
    const store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    const server = await startServer({ store, logger: quietLogger(), port: 0, keepAliveMs: 100 });
    const { key, info } = await new ApiKeys(store.driver).create('viewer');
    try {
      const res = await fetch(`${server.url}/api/events`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      await reader.read(); // ready
      await new ApiKeys(store.driver).revoke(info.id);
      // The server's cache of checked keys lasts 2 s; the next beat after it ends the stream.
      const ended = await new Promise<boolean>((resolve) => {
        const t = setTimeout(() => resolve(false), 10_000);
        void (async () => {
          for (;;) {
            const { done } = await reader.read().catch(() => ({ done: true }));
            if (done) break;
          }
          clearTimeout(t);
          resolve(true);
        })();
      });
      expect(ended).toBe(true);
      expect(
        (await fetch(`${server.url}/api/events`, { headers: { authorization: `Bearer ${key}` } })).status,
      ).toBe(401);
    } finally {
      await server.close();
      await store.close();
    }
  });
});

describe('browser guard', () => {
  it('refuses changes from other sites and requests addressed to another name; refuses CORS * with no key', async () => {
    const store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    const server = await startServer({ store, logger: quietLogger(), port: 0 });
    try {
      const start = (headers: Record<string, string>) =>
        fetch(`${server.url}/api/executions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', ...headers },
          body: JSON.stringify({ kind: 'job', name: 'nothing' }),
        });
      const evil = await start({ origin: 'https://evil.example' });
      expect(evil.status).toBe(403);
      expect(((await evil.json()) as { error: { message: string } }).error.message).toContain('evil.example');
      // Its own pages may; so may a client that sends no Origin (curl, scripts).
      expect((await start({ origin: server.url })).status).toBe(404); // past the guard: the job is unknown
      expect((await start({})).status).toBe(404);
      // Reading is left to the browser's same-origin rule.
      expect(
        (await fetch(`${server.url}/health`, { headers: { origin: 'https://evil.example' } })).status,
      ).toBe(200);

      // A DNS name rebound to 127.0.0.1: the browser thinks it talks to evil.example.
      const port = new URL(server.url).port;
      const rebound = await new Promise<number>((resolve, reject) => {
        const req = request(
          { host: '127.0.0.1', port, path: '/api/executions', headers: { host: `evil.example:${port}` } },
          (res) => {
            res.resume();
            resolve(res.statusCode!);
          },
        );
        req.on('error', reject);
        req.end();
      });
      expect(rebound).toBe(403);

      await expect(
        startServer({ store, logger: quietLogger(), port: 0, corsOrigins: ['*'] }),
      ).rejects.toThrow(/any website/);
    } finally {
      await server.close();
      await store.close();
    }
  });
});

describe('listening beyond loopback', () => {
  it('is refused without a key, and requires keys on every call with one', async () => {
    const store = await openStore(BACKENDS[0]!);
    try {
      await expect(
        startServer({ store, logger: quietLogger(), host: '0.0.0.0', port: 0 }),
      ).rejects.toMatchObject({
        code: 'E_INVALID_OPTION',
        message: expect.stringContaining('refusing to listen on 0.0.0.0 without authentication'),
      });
      const local = await startServer({ store, logger: quietLogger(), port: 0 });
      const made = await fetch(`${local.url}/api/keys`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ role: 'viewer' }),
      });
      const { key } = (await made.json()) as { key: string };
      await local.close();
      const open = await startServer({ store, logger: quietLogger(), host: '0.0.0.0', port: 0 });
      try {
        expect(open.auth).toBe('required');
        const port = new URL(open.url).port;
        expect((await fetch(`http://127.0.0.1:${port}/api/executions`)).status).toBe(401);
        const ok = await fetch(`http://127.0.0.1:${port}/api/executions`, {
          headers: { authorization: `Bearer ${key}` },
        });
        expect(ok.status).toBe(200);
      } finally {
        await open.close();
      }
    } finally {
      await store.close();
    }
  });
});
