// Agents against a loopback OpenAI server that scripts the model's tool calls: tools run under
// the permission rules, asks become durable approvals (or denials with no one to ask), every
// decision is audited, and a finished run replays without a request.
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Client,
  PermissionPolicy,
  Store,
  Worker,
  type PermissionRuleLists,
  type WorkflowDefinition,
} from '@baton/core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually, quietLogger } from '../../core/test/backends.js';
import {
  Ai,
  AlwaysRules,
  ApprovalStore,
  AuditLog,
  BUILTIN_TOOLS,
  ToolSandbox,
  defineAgent,
  type AgentInput,
  type AgentResult,
} from '../src/index.js';
import { fixtureConfig } from './ai-helpers.js';
import { startLlmServer, type LoopbackServer, type Reply } from './llm-servers.js';

let store: Store;
let ai: Ai;
let server: LoopbackServer;
let root: string;
let worker: Worker | undefined;
let client: Client;

beforeAll(async () => {
  store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
  await store.migrate();
  server = await startLlmServer('openai', []);
  const config = await fixtureConfig();
  Object.assign(config.llm_providers!.providers!.openai, { endpoint: server.url, max_retries: 0 });
  config.llm_providers!.failover_order = ['openai'];
  ai = await Ai.open(store, config, { logger: quietLogger() });
  client = new Client(store);
});
afterAll(async () => {
  await server.close();
  await store.close();
});
afterEach(async () => {
  await worker?.stop({ deadline: 2000 });
  worker = undefined;
});

let agentNo = 0;
/** An agent with the built-in tools over a fresh project directory, a worker running it, and the server's script. */
async function agentWith(script: Reply[], rules: PermissionRuleLists) {
  root = mkdtempSync(join(tmpdir(), 'baton-agent-'));
  writeFileSync(join(root, 'notes.txt'), 'hello notes\n');
  writeFileSync(join(root, '.env'), 'API_KEY=sk-live-123\n');
  server.script.splice(0, Infinity, ...script);
  server.requests.length = 0;
  const always = new AlwaysRules(join(root, '.baton', 'agent_permissions.json'));
  const agent = defineAgent(
    {
      name: `coder${++agentNo}`,
      system: 'You are a careful coder.',
      tools: Object.values(BUILTIN_TOOLS),
      queue: 'agents',
    },
    { ai, sandbox: new ToolSandbox({ root }), policy: new PermissionPolicy(rules), always },
  );
  worker = new Worker(store, { workflows: [agent as WorkflowDefinition], pollInterval: 20 });
  await worker.start();
  return { agent, always };
}

const toolResults = (requestNo: number) =>
  (server.requests[requestNo].messages as { role: string; content: unknown; tool_call_id?: string }[]).filter(
    (m) => m.role === 'tool',
  );

describe('agents', () => {
  it('runs allowed tools, denies by rule, reports schema errors and unknown tools to the model, and audits each decision', async () => {
    const { agent } = await agentWith(
      [
        {
          tools: [
            { id: 'c1', name: 'read_file', args: { path: 'notes.txt' } },
            { id: 'c2', name: 'read_file', args: { path: '.env' } },
            { id: 'c3', name: 'read_file', args: { path: 42 } },
            { id: 'c4', name: 'delete_everything', args: {} },
          ],
        },
        { text: 'The notes say hello.' },
      ],
      { allow: ['read_file'], deny: ['read_file(**/.env)'] },
    );
    const { id } = await client.start(agent, { prompt: 'what do the notes say?' } satisfies AgentInput);
    const out = await client.result<AgentResult>(id, { timeout: '30s' });
    expect(out).toMatchObject({ text: 'The notes say hello.', turns: 2, toolCalls: 4, stoppedBy: 'answer' });
    // One result per call (the SDK answers the call of an unknown tool itself).
    const results = new Map(toolResults(1).map((m) => [m.tool_call_id, String(m.content)]));
    expect([...results.keys()].sort()).toEqual(['c1', 'c2', 'c3', 'c4']);
    expect(results.get('c1')).toMatch(/1\thello notes/);
    expect(results.get('c2')).toMatch(/denied by deny: read_file\(\*\*\/\.env\)/);
    expect(results.get('c3')).toMatch(/do not match read_file's schema/);
    expect(results.get('c4')).toMatch(/delete_everything/);
    const audit = await new AuditLog(store.driver).list({ executionId: id });
    expect(audit.map((a) => [a.toolCallId, a.decision, a.rule])).toEqual([
      ['c1', 'allow', 'allow: read_file'],
      ['c2', 'deny', 'deny: read_file(**/.env)'],
    ]);
    // The run replays from its history: no further request.
    expect(server.requests).toHaveLength(2);
    const history = (await client.describe(id)).history.map((h) => h.name);
    expect(history.filter((n) => n === 'ai.generate')).toHaveLength(2);
    expect(history).toContain('tool:read_file:c1');
  });

  it('denies an ask when there is no one to ask (headless), without waiting', async () => {
    const { agent } = await agentWith(
      [
        { tool: { id: 'w1', name: 'write_file', args: { path: 'out.txt', content: 'x' } } },
        { text: 'could not write' },
      ],
      { allow: ['read_file'] },
    );
    const { id } = await client.start(agent, { prompt: 'write it' } satisfies AgentInput);
    expect((await client.result<AgentResult>(id, { timeout: '30s' })).text).toBe('could not write');
    expect(String(toolResults(1)[0].content)).toMatch(/denied by headless: no one to ask/);
    expect(() => readFileSync(join(root, 'out.txt'))).toThrow();
    const [entry] = await new AuditLog(store.driver).list({ executionId: id });
    expect(entry).toMatchObject({ decision: 'denied', decidedBy: 'headless' });
  });

  it('asks about an allowed command that runs outside the project root (the rules match the argv only)', async () => {
    const { agent } = await agentWith(
      [
        {
          tools: [
            { id: 'x1', name: 'run_command', args: { argv: ['echo', 'root'] } },
            { id: 'x2', name: 'run_command', args: { argv: ['echo', 'sub'], cwd: 'sub' } },
          ],
        },
        { text: 'ok' },
      ],
      { allow: ['run_command(echo *)'] },
    );
    mkdirSync(join(root, 'sub'));
    const { id } = await client.start(agent, { prompt: 'go' } satisfies AgentInput);
    await client.result<AgentResult>(id, { timeout: '30s' });
    const audit = await new AuditLog(store.driver).list({ executionId: id });
    expect(audit.map((a) => [a.toolCallId, a.decision, a.decidedBy])).toEqual([
      ['x1', 'allow', null],
      ['x2', 'denied', 'headless'],
    ]);
    expect(audit[1].rule).toBe('allow: run_command(echo *) (asked: it runs in sub, not the project root)');
  });

  it('waits for an approval, remembers it for the session, and writes "always" answers to the project file', async () => {
    const { agent, always } = await agentWith(
      [
        { tool: { id: 'r1', name: 'run_command', args: { argv: ['echo', 'one'] } } },
        { tool: { id: 'r2', name: 'run_command', args: { argv: ['echo', 'one'] } } },
        {
          tool: {
            id: 'r3',
            name: 'write_file',
            args: { path: 'a.txt', content: 'token: ghp_abcdefghijklmnopqrstuvwxyz' },
          },
        },
        { text: 'done' },
      ],
      {},
    );
    const { id } = await client.start(agent, {
      prompt: 'go',
      approvalTimeoutMs: 60_000,
    } satisfies AgentInput);
    const approvals = new ApprovalStore(store.driver);
    await eventually(async () => (await approvals.list()).length === 1, 10_000, 'the first approval request');
    const [first] = await approvals.list();
    expect(first).toMatchObject({
      executionId: id,
      tool: 'run_command',
      arguments: { argv: ['echo', 'one'] },
      status: 'pending',
    });
    // Unknown and mistyped ids are refused with a did-you-mean.
    await expect(
      approvals.decide(store, first.id.slice(0, -1) + 'x', {
        approved: true,
        by: 'alice',
        reason: null,
        remember: 'once',
      }),
    ).rejects.toMatchObject({ code: 'E_NOT_FOUND', message: expect.stringMatching(/did you mean/) });
    await approvals.decide(store, first.id, {
      approved: true,
      by: 'alice',
      reason: null,
      remember: 'session',
    });
    // The same call again in this run: allowed by the session, not asked.
    await eventually(
      async () => (await approvals.list()).length === 1 && (await approvals.list())[0].id !== first.id,
      10_000,
      'the write_file request',
    );
    const [write] = await approvals.list();
    expect(write.tool).toBe('write_file');
    // Secrets in arguments are masked where they are stored.
    expect(JSON.stringify(write.arguments)).not.toContain('ghp_');
    await approvals.decide(store, write.id, {
      approved: true,
      by: 'bob',
      reason: 'fine',
      remember: 'always',
    });
    expect((await client.result<AgentResult>(id, { timeout: '30s' })).text).toBe('done');
    expect(readFileSync(join(root, 'a.txt'), 'utf8')).toContain('ghp_');
    expect(always.read()).toEqual(['write_file(a.txt)']);
    const audit = await new AuditLog(store.driver).list({ executionId: id });
    expect(audit.map((a) => [a.toolCallId, a.decision, a.decidedBy])).toEqual([
      ['r1', 'approved', 'alice'],
      ['r2', 'allow', null],
      ['r3', 'approved', 'bob'],
    ]);
    expect(audit[1].rule).toBe('session: approved earlier in this run');
    expect(JSON.stringify(audit[2].arguments)).not.toContain('ghp_');
    // A decided request cannot be decided again.
    await expect(
      approvals.decide(store, first.id, { approved: false, by: 'eve', reason: null, remember: 'once' }),
    ).rejects.toMatchObject({
      code: 'E_INVALID_STATE',
      message: expect.stringMatching(/already approved by alice/),
    });
  });

  it('denies when the approval times out, and refuses a late answer', async () => {
    const { agent } = await agentWith(
      [{ tool: { id: 't1', name: 'run_command', args: { argv: ['true'] } } }, { text: 'gave up' }],
      {},
    );
    const { id } = await client.start(agent, { prompt: 'go', approvalTimeoutMs: 300 } satisfies AgentInput);
    expect((await client.result<AgentResult>(id, { timeout: '30s' })).text).toBe('gave up');
    expect(String(toolResults(1)[0].content)).toMatch(/denied by timeout: no answer within 0.3 s/);
    const approvals = new ApprovalStore(store.driver);
    const [req] = await approvals.list('all');
    expect(req.status).toBe('expired');
    await expect(
      approvals.decide(store, req.id, { approved: true, by: 'late', reason: null, remember: 'once' }),
    ).rejects.toMatchObject({
      code: 'E_INVALID_STATE',
    });
  });

  it('refuses a definition it cannot run: a model without a provider, no turns, a tool twice', () => {
    const rt = { ai, sandbox: new ToolSandbox({ root: tmpdir() }), policy: new PermissionPolicy() };
    const tools = [BUILTIN_TOOLS.read_file];
    expect(() => defineAgent({ name: 'a', system: '', tools, model: 'gpt-4' }, rt)).toThrow(
      /model 'gpt-4' needs a provider/,
    );
    expect(() => defineAgent({ name: 'a', system: '', tools, maxSteps: 0 }, rt)).toThrow(
      /maxSteps must be a positive integer/,
    );
    expect(() => defineAgent({ name: 'a', system: '', tools: [...tools, ...tools] }, rt)).toThrow(
      /lists a tool twice/,
    );
  });

  it('stops at its budget, and after a call whose price is unknown', async () => {
    const turns: Reply[] = [
      {
        tool: { id: 'b1', name: 'read_file', args: { path: 'notes.txt' } },
        usage: { input: 1000, output: 100 },
      },
      { tool: { id: 'b2', name: 'read_file', args: { path: 'notes.txt' } } },
      { text: 'never reached' },
    ];
    await agentWith(turns, {});
    const priced = defineAgent(
      { name: 'budgeted', system: 'x', tools: [BUILTIN_TOOLS.read_file], budget: { maxCostUsd: 0.001 } },
      { ai, sandbox: new ToolSandbox({ root }), policy: new PermissionPolicy({ allow: ['read_file'] }) },
    );
    // gpt-4-turbo: 1,000 input and 100 output tokens cost $0.013, past the $0.001 budget.
    const local = await Ai.open(store, {
      llm_providers: {
        failover_order: ['local'],
        providers: { local: { type: 'openai-compatible', model: 'house-model', endpoint: server.url } },
      },
    });
    const unpriced = defineAgent(
      { name: 'unpriced', system: 'x', tools: [BUILTIN_TOOLS.read_file], budget: { maxCostUsd: 100 } },
      {
        ai: local,
        sandbox: new ToolSandbox({ root }),
        policy: new PermissionPolicy({ allow: ['read_file'] }),
      },
    );
    const w = new Worker(store, { workflows: [priced, unpriced] as WorkflowDefinition[], pollInterval: 20 });
    await w.start();
    try {
      for (const agent of [priced, unpriced]) {
        server.script.splice(0, Infinity, ...turns);
        server.requests.length = 0;
        const { id } = await client.start(agent, { prompt: 'read' });
        const out = await client.result<AgentResult>(id, { timeout: '30s' });
        expect(out, agent.name).toMatchObject({ stoppedBy: 'budget', turns: 1, toolCalls: 1 });
        expect(server.requests).toHaveLength(1);
      }
    } finally {
      await w.stop({ deadline: 2000 });
    }
  });
});
