// SIGKILL of a worker process in the middle of LLM calls. A call not yet recorded is made again
// when the workflow recovers (at least once, decision 0025); a recorded call is never made again.
// The loopback server counts the requests each call received.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Store } from '@baton/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, freshDatabase, quietLogger } from '../../core/test/backends.js';
import { startLlmServer, type LoopbackServer } from './llm-servers.js';

const SCRIPT = fileURLToPath(new URL('./fixtures/ai-worker.ts', import.meta.url));
const PG_URL = process.env.BATON_PG_URL;

describe.skipIf(!PG_URL)('worker processes killed during LLM calls (PostgreSQL)', () => {
  let url: string;
  let store: Store;
  let client: Client;
  let server: LoopbackServer;
  let root = tmpdir();
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    url = await freshDatabase();
    store = await Store.open({ databaseUrl: url, logger: quietLogger() });
    await store.migrate();
    client = new Client(store);
  });
  afterAll(() => store.close());
  afterEach(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    children.length = 0;
    await server.close();
  });

  function startWorker(): Promise<ChildProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
      env: { ...process.env, BATON_DATABASE_URL: url, LLM_URL: server.url, AGENT_ROOT: root },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    return new Promise((resolve, reject) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready ')) resolve(child);
      });
      child.on('exit', (code) => reject(new Error(`worker exited with ${code} before it was ready: ${out}`)));
    });
  }

  const kill = async (c: ChildProcess) => {
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  };

  const stepDone = async (id: string, name: string) =>
    (await client.describe(id)).history.some((h) => h.name === name && h.status === 'completed');

  it('repeats a generate cut off before its record, and never one that was recorded', async () => {
    server = await startLlmServer('openai', [
      { text: 'slow first', delayMs: 4_000 },
      { text: 'first' },
      { text: 'second' },
    ]);
    const a = await startWorker();
    const { id } = await client.start('ai-crash', {}, { queue: 'ai-crash' });
    await eventually(async () => server.requests.length === 1, 20_000, 'the first request');
    await kill(a); // mid-request: nothing recorded
    const b = await startWorker();
    await eventually(() => stepDone(id, 'ai.generate'), 20_000, 'the generate to be recorded on B');
    expect(server.requests).toHaveLength(2);
    await kill(b); // after the record, while the workflow waits for its signal
    await startWorker();
    await client.signal(id, 'go', {});
    const out = await client.result<{ first: string; second: string }>(id, { timeout: '30s' });
    expect(out).toEqual({ first: 'first', second: 'second' });
    // generate: twice (the first cut off); stream: once. The recorded generate was not repeated.
    expect(server.requests.map((r) => r.stream === true)).toEqual([false, false, true]);
    const rows = await store.driver.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM baton.ai_calls WHERE execution_id = $1 AND outcome = 'ok'",
      [id],
    );
    // The killed worker never heard back, so it recorded nothing: two calls in the ledger.
    expect(rows[0].n).toBe(2);
  });

  it('repeats a stream cut off before its record', async () => {
    server = await startLlmServer('openai', [
      { text: 'first' },
      { text: 'slow stream', delayMs: 4_000 },
      { text: 'second' },
    ]);
    const a = await startWorker();
    const { id } = await client.start('ai-crash', {}, { queue: 'ai-crash' });
    await eventually(() => stepDone(id, 'ai.generate'), 20_000, 'the generate');
    await client.signal(id, 'go', {});
    await eventually(async () => server.requests.length === 2, 20_000, 'the stream request');
    await kill(a);
    await startWorker();
    const out = await client.result<{ first: string; second: string }>(id, { timeout: '30s' });
    expect(out).toEqual({ first: 'first', second: 'second' });
    expect(server.requests.map((r) => r.stream === true)).toEqual([false, true, true]);
  });

  /** Runs the crash agent, whose model calls `tool`, and kills the worker while the tool runs. */
  async function killDuringTool(tool: string) {
    root = mkdtempSync(join(tmpdir(), 'baton-agent-crash-'));
    server = await startLlmServer('openai', [
      { tool: { id: 'call-1', name: tool, args: {} } },
      { text: 'finished' },
    ]);
    const a = await startWorker();
    const { id } = await client.start('agent.crash', { prompt: 'go' }, { queue: 'ai-crash' });
    const effects = () => {
      try {
        return readFileSync(join(root, 'effects.log'), 'utf8').trim().split('\n');
      } catch {
        return [];
      }
    };
    await eventually(async () => effects().length === 1, 20_000, 'the tool to start');
    await kill(a);
    await startWorker();
    const out = await client.result<{ text: string }>(id, { timeout: '30s' });
    expect(out.text).toBe('finished');
    const second = server.requests[1].messages as { role: string; content: string }[];
    return { effects: effects(), toolResult: second.find((m) => m.role === 'tool')!.content };
  }

  it('does not re-run a tool call with side effects that a crash cut off: the model is told it was interrupted', async () => {
    const { effects, toolResult } = await killDuringTool('charge_card');
    expect(effects).toEqual([expect.stringMatching(/^start charge_card \d+$/)]);
    expect(toolResult).toMatch(/this call was interrupted/);
  });

  it('re-runs an idempotent tool call that a crash cut off', async () => {
    const { effects, toolResult } = await killDuringTool('touch_cache');
    expect(effects.filter((e) => e.startsWith('start'))).toHaveLength(2);
    expect(effects.at(-1)).toMatch(/^end touch_cache/);
    expect(toolResult).toBe('done');
  });
});
