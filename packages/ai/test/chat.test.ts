// A chat session as a durable workflow, against a loopback OpenAI server: the first prompt, then
// messages by signal, each turn's outcome published, the whole conversation sent each turn, the
// idle state between turns, and continue-as-new that keeps the conversation; the live view of a
// turn's parts, a person's cancel (recorded, so a replay stops where the turn did), and the modes.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, PermissionPolicy, Store, Worker, type WorkflowDefinition } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, quietLogger } from '../../core/test/backends.js';
import {
  Ai,
  ApprovalStore,
  BUILTIN_TOOLS,
  CHAT_MESSAGE,
  LEDGER_EVENT,
  STATE_EVENT,
  ToolSandbox,
  checkMessage,
  defineChatSession,
  pinnedFrom,
  withLedger,
  addPins,
  compactionArtifact,
  turnEvent,
  type ChatLive,
  type TurnEvent,
  type TurnPart,
} from '../src/index.js';
import { fixtureConfig } from './ai-helpers.js';
import { startLlmServer, type LoopbackServer } from './llm-servers.js';

let store: Store;
let server: LoopbackServer;
let worker: Worker;
let client: Client;
let root = '';
// What this process sees of the turns, and the cancel it holds for one.
const parts: { session: string; turn: number; part: TurnPart; index: number }[] = [];
let cancel: AbortController | undefined;
const live: ChatLive = {
  onPart: (session, turn, part, index) => parts.push({ session, turn, part, index }),
  cancel: () => cancel?.signal,
};
const session = () =>
  defineChatSession({ name: 'helper', system: 'You help.', tools: Object.values(BUILTIN_TOOLS) }, runtime, {
    turnsPerRun: 2,
    live,
  });
let runtime: Parameters<typeof defineChatSession>[1];
// A session without tools (its messages say when to compact).
const small = () => defineChatSession({ name: 'small', system: 'You help.', tools: [] }, runtime);

beforeAll(async () => {
  store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
  await store.migrate();
  server = await startLlmServer('openai', [{ text: 'one' }, { text: 'two' }, { text: 'three' }]);
  const config = await fixtureConfig();
  Object.assign(config.llm_providers!.providers!.openai, { endpoint: server.url, max_retries: 0 });
  config.llm_providers!.failover_order = ['openai'];
  const ai = await Ai.open(store, config, { logger: quietLogger() });
  root = mkdtempSync(join(tmpdir(), 'baton-chat-'));
  runtime = { ai, sandbox: new ToolSandbox({ root }), policy: new PermissionPolicy({}) };
  worker = new Worker(store, {
    workflows: [session() as WorkflowDefinition, small() as WorkflowDefinition],
    pollInterval: 20,
  });
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

  it('shows each part of a turn as it streams: tool calls, their results, text, usage', async () => {
    server.requests.length = 0;
    server.script = [
      { tool: { id: 'w1', name: 'write_file', args: { path: 'notes.md', content: 'hi\n' } } },
      { text: 'wrote the notes' },
    ];
    parts.length = 0;
    // accept-edits: the edit the rules would ask about (and, headless, deny) runs.
    const { id } = await client.start(session(), {
      project: root,
      prompt: 'write notes',
      mode: 'accept-edits',
    });
    const t = (await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' }))!;
    expect(t).toMatchObject({ text: 'wrote the notes', toolCalls: 1, stoppedBy: 'answer' });
    expect(readFileSync(join(root, 'notes.md'), 'utf8')).toBe('hi\n');
    const mine = parts.filter((p) => p.session === id && p.turn === 1).map((p) => p.part);
    const types = mine.map((p) => p.type);
    expect(types.indexOf('tool-call')).toBeLessThan(types.indexOf('tool-result'));
    expect(types.indexOf('tool-result')).toBeLessThan(types.indexOf('text'));
    expect(mine.find((p) => p.type === 'tool-call')).toMatchObject({ tool: 'write_file', id: 'w1' });
    expect(mine.find((p) => p.type === 'tool-result')).toMatchObject({ tool: 'write_file', error: false });
    expect(
      mine
        .filter((p) => p.type === 'text')
        .map((p) => (p as { delta: string }).delta)
        .join(''),
    ).toBe('wrote the notes');
    expect(mine.filter((p) => p.type === 'step')).toHaveLength(2);
  });

  it('a turn replayed after an approval gives its parts again from place 0, each place the same part', async () => {
    server.requests.length = 0;
    server.script = [
      { tool: { id: 'a1', name: 'write_file', args: { path: 'asked.md', content: 'ok' } } },
      { text: 'done' },
    ];
    parts.length = 0;
    const { id } = await client.start(session(), {
      project: root,
      prompt: 'ask first',
      approvalTimeoutMs: 10_000,
    });
    const approvals = new ApprovalStore(store.driver);
    await eventually(
      async () => (await approvals.list('pending', 10, id)).length === 1,
      10_000,
      'the approval',
    );
    const [asked] = await approvals.list('pending', 10, id);
    await approvals.decide(store, asked!.id, { approved: true, by: 'me', reason: null, remember: 'once' });
    expect((await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' }))!.text).toBe('done');
    const mine = parts.filter((p) => p.session === id);
    // The wait for the answer left the turn; the answer replayed it: the call's place came twice.
    const calls = mine.filter((p) => p.part.type === 'tool-call');
    expect(calls.length).toBe(2);
    expect(calls[0]!.index).toBe(calls[1]!.index);
    // Shown once per place, the turn reads as it ran.
    const shown = new Map(mine.map((p) => [p.index, p.part.type]));
    expect([...shown.keys()]).toEqual([...shown.keys()].sort((a, b) => a - b));
    expect([...shown.values()].filter((t) => t === 'tool-call')).toHaveLength(1);
    expect([...shown.values()].filter((t) => t === 'tool-result')).toHaveLength(1);
  });

  it('a message that asks for a provider and model is answered by them', async () => {
    server.requests.length = 0;
    server.script = [{ text: 'default' }, { text: 'switched' }];
    const { id } = await client.start(session(), { project: root, prompt: 'hi' });
    await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' });
    await eventually(async () => (await client.getEvent(id, STATE_EVENT)) !== undefined, 10_000, 'idle');
    await client.signal(id, CHAT_MESSAGE, { text: 'again', provider: 'openai', model: 'gpt-4o-mini' });
    expect((await client.getEvent<TurnEvent>(id, turnEvent(2), { timeout: '10s' }))!.text).toBe('switched');
    expect(server.requests[0]!.model).not.toBe('gpt-4o-mini');
    expect(server.requests[1]!.model).toBe('gpt-4o-mini');
  });

  it('plan mode lets only read-only tools run: an edit is refused and the model is told why', async () => {
    server.requests.length = 0;
    server.script = [
      { tool: { id: 'p1', name: 'write_file', args: { path: 'plan.md', content: 'x' } } },
      { text: 'I would write plan.md' },
    ];
    parts.length = 0;
    const { id } = await client.start(session(), { project: root, prompt: 'plan it', mode: 'plan' });
    expect((await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' }))!.text).toBe(
      'I would write plan.md',
    );
    expect(existsSync(join(root, 'plan.md'))).toBe(false);
    const result = parts.find((p) => p.session === id && p.part.type === 'tool-result')!.part;
    expect(result).toMatchObject({ error: true, output: expect.stringMatching(/plan mode/) });
  });

  it('a cancel stops the turn where it is, is kept in the conversation, and the session goes on', async () => {
    server.requests.length = 0;
    const long = Array.from({ length: 40 }, (_, i) => `word${i}`).join(' ');
    server.script = [{ text: long, frameDelayMs: 50 }, { text: 'after the cancel' }];
    parts.length = 0;
    cancel = new AbortController();
    const { id } = await client.start(session(), { project: root, prompt: 'talk a lot' });
    await eventually(
      async () => parts.some((p) => p.session === id && p.part.type === 'text'),
      10_000,
      'text',
    );
    cancel.abort();
    const t = (await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' }))!;
    expect(t.stoppedBy).toBe('cancelled');
    const shown = parts.filter((p) => p.session === id && p.part.type === 'text').length;
    expect(shown).toBeLessThan(40);
    cancel = undefined;
    // The cancelled call is recorded as such: a replay fails at the same step, and makes no request.
    const history = (await client.describe(id)).history.filter((h) => h.name === 'ai.stream');
    expect(history[0]).toMatchObject({ status: 'failed' });
    expect(history[0]!.error?.code).toBe('E_CANCELLED');
    await eventually(async () => (await client.getEvent(id, STATE_EVENT)) !== undefined, 10_000, 'idle');
    await client.signal(id, CHAT_MESSAGE, { text: 'go on' });
    expect((await client.getEvent<TurnEvent>(id, turnEvent(2), { timeout: '10s' }))!.text).toBe(
      'after the cancel',
    );
    // The next request carries the cancelled turn as the conversation has it.
    expect(users(1)).toEqual([
      'user: talk a lot',
      'assistant: [the user cancelled this turn before it finished]',
      'user: go on',
    ]);
    // The second message replayed the first turn from its record: no request but the two turns'.
    expect(server.requests).toHaveLength(2);
  });

  it("keeps the user's instructions in a ledger sent with every turn; /compact summarises the rest and keeps what it replaced", async () => {
    server.requests.length = 0;
    server.script = [
      { text: 'looking' },
      { text: 'SUMMARY: the login bug is in auth.ts' },
      { text: 'going on' },
    ];
    const system = (n: number) => (server.requests[n]!.messages as { role: string; content: string }[])[0]!;
    const { id } = await client.start(session(), {
      project: root,
      prompt: 'Fix the login bug. Always run the tests before you answer.',
    });
    await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' });
    expect(system(0).content).toContain('<user-instructions');
    expect(system(0).content).toContain('- Always run the tests before you answer.');
    expect(await client.getEvent(id, LEDGER_EVENT)).toEqual(['Always run the tests before you answer.']);
    // A task is not a standing instruction.
    expect(system(0).content).not.toContain('- Fix the login bug.');

    await eventually(async () => (await client.getEvent(id, STATE_EVENT)) !== undefined, 10_000, 'idle');
    await client.signal(id, CHAT_MESSAGE, { text: 'the bug', compact: true });
    const c = (await client.getEvent<TurnEvent>(id, turnEvent(2), { timeout: '10s' }))!;
    expect(c).toMatchObject({ compacted: true, text: 'SUMMARY: the login bug is in auth.ts', turns: 0 });
    // The summary call reads the conversation as text, with the focus given.
    const asked = JSON.stringify(server.requests[1]!.messages);
    expect(asked).toContain('Focus the summary on: the bug');
    expect(asked).toContain('user: Fix the login bug.');
    expect(asked).toContain('assistant: looking');
    // What was replaced is kept, as the session's artifact (a continue-as-new does not drop it).
    const kept = await client.artifacts.get({ execution: id, name: compactionArtifact(2) });
    expect(kept.text()).toContain('user: Fix the login bug. Always run the tests before you answer.');

    await eventually(
      async () => (await client.getEvent<{ next: number }>(id, STATE_EVENT))?.next === 3,
      10_000,
      'idle',
    );
    await client.signal(id, CHAT_MESSAGE, { text: 'go on' });
    expect((await client.getEvent<TurnEvent>(id, turnEvent(3), { timeout: '10s' }))!.text).toBe('going on');
    // The next turn goes on from the summary; the ledger is still whole.
    expect(system(2).content).toContain('- Always run the tests before you answer.');
    expect(users(2)).toEqual([
      'user: <summary-of-earlier-conversation turn="2">\nSUMMARY: the login bug is in auth.ts\n</summary-of-earlier-conversation>',
      'assistant: Understood: I will go on from this summary.',
      'user: go on',
    ]);
  });

  it('compacts by itself once a turn was sent near the limit', async () => {
    server.requests.length = 0;
    server.script = [{ text: 'big answer', usage: { input: 50, output: 5 } }, { text: 'short summary' }];
    const { id } = await client.start(small(), {
      project: root,
      prompt: 'a long question',
      compactAtTokens: 40,
    });
    const t = (await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' }))!;
    expect(t).toMatchObject({ text: 'big answer', compacted: true });
    expect(server.requests).toHaveLength(2);
    expect((await client.describe(id)).history.some((h) => h.name === 'compact:1')).toBe(true);
  });

  it('a compaction that fails leaves the conversation whole, and the answer stands', async () => {
    server.requests.length = 0;
    server.script = [
      { text: 'big answer', usage: { input: 50, output: 5 } },
      { status: 400 },
      { text: 'next' },
    ];
    const { id } = await client.start(small(), {
      project: root,
      prompt: 'a long question',
      compactAtTokens: 40,
    });
    const t = (await client.getEvent<TurnEvent>(id, turnEvent(1), { timeout: '10s' }))!;
    expect(t).toMatchObject({ text: 'big answer', compacted: false });
    await eventually(async () => (await client.getEvent(id, STATE_EVENT)) !== undefined, 10_000, 'idle');
    await client.signal(id, CHAT_MESSAGE, { text: 'go on' });
    expect((await client.getEvent<TurnEvent>(id, turnEvent(2), { timeout: '10s' }))!.text).toBe('next');
    // The replay of turn 1 met the same failure and went the same way; the conversation is whole.
    expect(users(2)).toEqual(['user: a long question', 'assistant: big answer', 'user: go on']);
  });

  it('pins the sentences that direct, verbatim', () => {
    expect(
      pinnedFrom('Fix the bug in auth.ts. Never touch the migrations! Use pnpm, not npm.\nThanks.'),
    ).toEqual(['Never touch the migrations!', 'Use pnpm, not npm.']);
    expect(pinnedFrom("From now on, answer in French. Don't add comments.")).toEqual([
      'From now on, answer in French.',
      "Don't add comments.",
    ]);
    expect(withLedger('S', [])).toBe('S');
    // A question directs nothing; a sentence already pinned is not pinned twice.
    expect(pinnedFrom('Why did the build stop? Only touch src/.')).toEqual(['Only touch src/.']);
    expect(addPins(['Never push.'], ['Never push.', 'Use tabs.', 'Use tabs.'])).toEqual([
      'Never push.',
      'Use tabs.',
    ]);
    expect(addPins(['Never push.'], ['Never push.'])).toBeNull();
  });

  it('refuses an empty or oversized message before it reaches a session', () => {
    expect(() => checkMessage('  ')).toThrow(/the message is empty/);
    expect(() => checkMessage('x'.repeat(200_001))).toThrow(/at most 200000/);
    expect(checkMessage('fine')).toBe('fine');
  });
});
