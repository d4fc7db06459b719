// The AI layer over HTTP, on a real store with an agent waiting on an approval and a workflow
// streaming from a loopback OpenAI server: approvals listed and answered (who is kept), the audit
// log, usage and breakers, and an execution's LLM stream followed as server-sent events.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  Client,
  PermissionPolicy,
  Store,
  Worker,
  defineWorkflow,
  type WorkflowDefinition,
} from '@baton/core';
import { Ai, BUILTIN_TOOLS, ToolSandbox, defineAgent, type AgentResult } from '@baton/ai';
import { eventually, quietLogger } from '../../core/test/backends.js';
import { startLlmServer, type LoopbackServer } from '../../ai/test/llm-servers.js';
import { startServer, type RunningServer } from '../src/index.js';
import { openSse } from './sse.js';

describe('the AI layer over HTTP', () => {
  let store: Store;
  let llm: LoopbackServer;
  let server: RunningServer;
  let worker: Worker;
  let client: Client;
  let ai: Ai;

  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${server.url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as any }; // eslint-disable-line @typescript-eslint/no-explicit-any
  };

  const agent = () => {
    const root = mkdtempSync(join(tmpdir(), 'baton-server-ai-'));
    writeFileSync(join(root, 'a.txt'), 'alpha\n');
    return defineAgent(
      { name: 'http-agent', system: 'x', tools: Object.values(BUILTIN_TOOLS) },
      { ai, sandbox: new ToolSandbox({ root }), policy: new PermissionPolicy({ allow: ['read_file'] }) },
    );
  };
  const streamer = defineWorkflow('http-streamer', {}, async (ctx) => {
    await ctx.waitForSignal('go');
    return ai.in(ctx).stream({ prompt: 'tell me' }).text;
  });

  beforeAll(async () => {
    store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    llm = await startLlmServer('openai', []);
    ai = await Ai.open(store, {
      llm_providers: {
        failover_order: ['openai'],
        providers: { openai: { model: 'gpt-4-turbo', api_key: 'k', endpoint: llm.url, max_retries: 0 } },
      },
    });
    worker = new Worker(store, { workflows: [agent() as WorkflowDefinition, streamer], pollInterval: 20 });
    await worker.start();
    client = new Client(store);
    server = await startServer({ store, logger: quietLogger(), port: 0 });
  });
  afterAll(async () => {
    await server.close();
    await worker.stop({ deadline: 2000 });
    await llm.close();
    await store.close();
  });

  it('lists the approval an agent waits on, approves it as the caller, and shows the audit log', async () => {
    llm.script.splice(
      0,
      Infinity,
      {
        tool: {
          id: 'w1',
          name: 'write_file',
          args: { path: 'b.txt', content: 'key sk-secret-12345678' },
        },
      },
      { text: 'done' },
    );
    llm.requests.length = 0;
    const { id } = await client.start('agent.http-agent', { prompt: 'write b', approvalTimeoutMs: 60_000 });
    let pending: { id: string; tool: string; arguments: unknown }[] = [];
    await eventually(
      async () => (pending = (await call('GET', '/api/approvals')).body.items).length === 1,
      10_000,
      'the request',
    );
    expect(pending[0]).toMatchObject({ tool: 'write_file', status: 'pending' });
    expect(JSON.stringify(pending[0].arguments)).not.toContain('sk-secret');
    expect((await call('POST', '/api/approvals/nope/approve', {})).status).toBe(404);
    // text PostgreSQL cannot store is bad input, not a server failure
    expect((await call('POST', '/api/approvals/%00/approve', {})).status).toBe(400);
    expect((await call('POST', `/api/approvals/${pending[0].id}/deny`, { reason: 'no\u0000' })).status).toBe(
      400,
    );
    expect((await call('GET', '/api/audit?execution=%00')).status).toBe(400);
    expect(
      (await call('POST', `/api/approvals/${pending[0].id}/approve`, { remember: 'forever' })).status,
    ).toBe(400);
    const ok = await call('POST', `/api/approvals/${pending[0].id}/approve`, {
      remember: 'session',
      reason: 'looks fine',
    });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'approved', decidedBy: 'local', remember: 'session' });
    const again = await call('POST', `/api/approvals/${pending[0].id}/deny`, {});
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe('E_INVALID_STATE');
    const out = await client.result<AgentResult>(id, { timeout: '30s' });
    expect(out.text).toBe('done');
    const audit = (await call('GET', `/api/audit?execution=${id}`)).body.items;
    expect(audit).toEqual([
      expect.objectContaining({
        tool: 'write_file',
        decision: 'approved',
        decidedBy: 'local',
        reason: 'looks fine',
      }),
    ]);
    expect((await call('GET', '/api/approvals?status=all')).body.items[0].status).toBe('approved');
  });

  it('reports usage by any grouping, and the breakers', async () => {
    const usage = await call('GET', '/api/ai/usage?by=provider&since=1d');
    expect(usage.status).toBe(200);
    expect(usage.body.lines).toEqual([expect.objectContaining({ key: 'openai', failed: 0 })]);
    expect(usage.body.lines[0].requests).toBeGreaterThanOrEqual(2);
    expect((await call('GET', '/api/ai/usage?by=colour')).status).toBe(400);
    expect((await call('GET', '/api/ai/usage?since=soon')).status).toBe(400);
    expect((await call('GET', '/api/ai/breakers')).body).toEqual({ items: [] });
  });

  it("streams an execution's LLM parts as server-sent events while they arrive", async () => {
    llm.script.splice(0, Infinity, { text: 'one two three', usage: { input: 3, output: 3 } });
    const { id } = await client.start(streamer, {});
    const sse = await openSse(`${server.url}/api/executions/${id}/ai-stream`);
    try {
      expect(sse.status).toBe(200);
      await sse.next((f) => f.event === 'ready');
      await client.signal(id, 'go');
      await sse.next((f) => f.event === 'part' && f.data.part.type === 'finish');
      const deltas = sse.frames.filter((f) => f.event === 'part' && f.data.part.type === 'text-delta');
      expect(deltas.map((f) => f.data.part.delta).join('')).toBe('one two three');
      expect(deltas[0].data.executionId).toBe(id);
      expect(await client.result(id, { timeout: '30s' })).toBe('one two three');
    } finally {
      sse.close();
    }
  });
});

describe('the AI routes on a store no agent has used', () => {
  it('answer empty lists, and 404 for an approval, never a 500', async () => {
    const store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    await store.migrate();
    const server = await startServer({ store, logger: quietLogger(), port: 0 });
    try {
      const get = async (path: string) =>
        (await (await fetch(`${server.url}${path}`)).json()) as Record<string, unknown>;
      expect(await get('/api/approvals')).toEqual({ items: [] });
      expect(await get('/api/audit')).toEqual({ items: [] });
      expect(await get('/api/ai/breakers')).toEqual({ items: [] });
      expect((await get('/api/ai/usage')).lines).toEqual([]);
      const res = await fetch(`${server.url}/api/approvals/abc/approve`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: '{}',
      });
      expect(res.status).toBe(404);
      expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(
        /no agent has asked for one here/,
      );
    } finally {
      await server.close();
      await store.close();
    }
  });
});
