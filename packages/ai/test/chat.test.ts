// A chat session as a durable workflow, against a loopback OpenAI server: the first prompt, then
// messages by signal, each turn's outcome published, the whole conversation sent each turn, the
// idle state between turns, and continue-as-new that keeps the conversation.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, PermissionPolicy, Store, Worker, type WorkflowDefinition } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, quietLogger } from '../../core/test/backends.js';
import {
  Ai,
  BUILTIN_TOOLS,
  CHAT_MESSAGE,
  STATE_EVENT,
  ToolSandbox,
  checkMessage,
  defineChatSession,
  turnEvent,
  type TurnEvent,
} from '../src/index.js';
import { fixtureConfig } from './ai-helpers.js';
import { startLlmServer, type LoopbackServer } from './llm-servers.js';

let store: Store;
let server: LoopbackServer;
let worker: Worker;
let client: Client;
const session = () =>
  defineChatSession({ name: 'helper', system: 'You help.', tools: Object.values(BUILTIN_TOOLS) }, runtime, {
    turnsPerRun: 2,
  });
let runtime: Parameters<typeof defineChatSession>[1];

beforeAll(async () => {
  store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
  await store.migrate();
  server = await startLlmServer('openai', [{ text: 'one' }, { text: 'two' }, { text: 'three' }]);
  const config = await fixtureConfig();
  Object.assign(config.llm_providers!.providers!.openai, { endpoint: server.url, max_retries: 0 });
  config.llm_providers!.failover_order = ['openai'];
  const ai = await Ai.open(store, config, { logger: quietLogger() });
  const root = mkdtempSync(join(tmpdir(), 'baton-chat-'));
  runtime = { ai, sandbox: new ToolSandbox({ root }), policy: new PermissionPolicy({}) };
  worker = new Worker(store, { workflows: [session() as WorkflowDefinition], pollInterval: 20 });
  await worker.start();
  client = new Client(store);
});
afterAll(async () => {
  await worker.stop({ deadline: 2000 });
  await server.close();
  await store.close();
});

const users = (n: number) =>
  (server.requests[n]!.messages as { role: string; content: string }[])
    .filter((m) => m.role !== 'system')
    .map((m) => `${m.role}: ${typeof m.content === 'string' ? m.content : JSON.stringify(m.content)}`);

describe('a chat session', () => {
  it('takes messages in turn, sends the whole conversation, and continues as new without losing it', async () => {
    const { id } = await client.start(session(), { project: '/p', prompt: 'first' });
    const t1 = (await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' }))!;
    expect(t1).toMatchObject({ turn: 1, text: 'one', turns: 1, toolCalls: 0, stoppedBy: 'answer' });
    await eventually(async () => (await client.getEvent(id, STATE_EVENT)) !== undefined, 10_000, 'idle');
    expect(await client.getEvent(id, STATE_EVENT)).toEqual({ next: 2 });

    await client.signal(id, CHAT_MESSAGE, { text: 'second' });
    expect((await client.getEvent<TurnEvent>(id, turnEvent(2), { timeout: '10s' }))!.text).toBe('two');
    // Two turns per run here: the session continued as new, carrying the conversation.
    await eventually(async () => (await client.get(id)).runNumber === 2, 10_000, 'the second run');
    await client.signal(id, CHAT_MESSAGE, { text: 'third' });
    expect((await client.getEvent<TurnEvent>(id, turnEvent(3), { timeout: '10s' }))!.text).toBe('three');
    expect(users(2)).toEqual([
      'user: first',
      'assistant: one',
      'user: second',
      'assistant: two',
      'user: third',
    ]);
    expect(server.requests).toHaveLength(3);
  });

  it('refuses an empty or oversized message before it reaches a session', () => {
    expect(() => checkMessage('  ')).toThrow(/the message is empty/);
    expect(() => checkMessage('x'.repeat(200_001))).toThrow(/at most 200000/);
    expect(checkMessage('fine')).toBe('fine');
  });
});
