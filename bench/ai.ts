// `npm run bench -- ai [--calls N] [--repeat R] [--checks N]`: what the AI layer adds, on PostgreSQL.
//  - added_p50_ms: a durable generate (a workflow step: failover model, breaker read, usage ledger row,
//    history record) against the loopback OpenAI server, beside a bare AI SDK generateText against
//    the same server; p50 of each, median over the repeats, interleaved.
//  - replay_20_turns_ms: an agent run of 20 turns with 3 tool calls each, replayed from its history
//    (it waits on an approval after the 20th turn; the approval makes a worker replay everything),
//    less the same measurement for an agent with no turns before the approval. The server's request
//    count shows the replay made no request.
//  - policy_check_us: one permission decision with 200 rules, over a mix of calls.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import pg from 'pg';
import { createOpenAI } from '@ai-sdk/openai';
import { generateText } from 'ai';
import {
  Client,
  PermissionPolicy,
  Store,
  Worker,
  createLogger,
  defineWorkflow,
  type WorkflowDefinition,
} from '@baton/core';
import {
  Ai,
  ApprovalStore,
  BUILTIN_TOOLS,
  ToolSandbox,
  defineAgent,
  type AgentResult,
  type AiConfig,
} from '@baton/ai';
import { startLlmServer, type Reply } from '../packages/ai/test/llm-servers.js';
import { intArg } from './_args.js';
import { watchLoad } from './_load.js';

const CALLS = intArg('calls', 300);
const REPEAT = intArg('repeat', 3);
const CHECKS = intArg('checks', 200_000);
const load = watchLoad((msg) => console.log(msg));
const BASE_URL = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

const admin = new pg.Client({ connectionString: BASE_URL });
await admin.connect();
const db = `bench_ai_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${db}`);
const url = new URL(BASE_URL);
url.pathname = `/${db}`;
const server = await startLlmServer('openai', [{ text: 'ok', usage: { input: 12, output: 2 } }]);
try {
  const store = await Store.open({ databaseUrl: url.toString(), logger: createLogger('warn') });
  await store.migrate();
  const config: AiConfig = {
    llm_providers: {
      failover_order: ['openai'],
      providers: { openai: { model: 'gpt-4-turbo', api_key: 'bench', endpoint: server.url, max_retries: 0 } },
    },
  };
  const ai = await Ai.open(store, config);
  const bare = createOpenAI({ baseURL: server.url, apiKey: 'bench' }).chat('gpt-4-turbo');

  // ---- added_p50_ms -------------------------------------------------------------------------
  const timed = defineWorkflow('bench-ai-generate', { queue: 'bench-ai' }, async (ctx, n: number) => {
    const times: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await ai.in(ctx).generate({ prompt: `call ${i}` });
      times.push(performance.now() - t0);
    }
    return times;
  });
  const scriptOk: Reply[] = [{ text: 'ok', usage: { input: 12, output: 2 } }];
  const worker = new Worker(store, { workflows: [timed], pollInterval: 50 });
  await worker.start();
  const client = new Client(store);
  const bareP50: number[] = [];
  const durableP50: number[] = [];
  const bareP99: number[] = [];
  const durableP99: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    server.script.splice(0, Infinity, ...scriptOk);
    const times: number[] = [];
    for (let i = 0; i < CALLS; i++) {
      const t0 = performance.now();
      await generateText({ model: bare, prompt: `call ${i}`, maxRetries: 0 });
      times.push(performance.now() - t0);
    }
    bareP50.push(pct(times, 0.5));
    bareP99.push(pct(times, 0.99));
    const { id } = await client.start(timed, CALLS);
    const durable = await client.result<number[]>(id, { timeout: '10m' });
    durableP50.push(pct(durable, 0.5));
    durableP99.push(pct(durable, 0.99));
    console.log(
      `repeat ${r + 1}: bare generateText p50 ${pct(times, 0.5).toFixed(2)} ms p99 ${pct(times, 0.99).toFixed(2)} ms; durable generate p50 ${pct(durable, 0.5).toFixed(2)} ms p99 ${pct(durable, 0.99).toFixed(2)} ms`,
    );
  }
  await worker.stop();
  const added = median(durableP50) - median(bareP50);

  // ---- replay_20_turns_ms -------------------------------------------------------------------
  const root = mkdtempSync(join(tmpdir(), 'bench-ai-agent-'));
  writeFileSync(join(root, 'a.txt'), 'alpha\n');
  const agentWorkflow = defineAgent(
    { name: 'bench', system: 'bench', tools: Object.values(BUILTIN_TOOLS), maxSteps: 100 },
    // read_file runs without asking; write_file asks: the approval the replay waits behind.
    { ai, sandbox: new ToolSandbox({ root }), policy: new PermissionPolicy({ allow: ['read_file'] }) },
  );
  const agentWorker = new Worker(store, {
    workflows: [agentWorkflow as WorkflowDefinition],
    pollInterval: 50,
  });
  await agentWorker.start();
  const approvals = new ApprovalStore(store.driver);
  /** Runs `turns` turns of 3 read_file calls, then an ask; returns the time from the approval to the end, and requests during it. */
  async function replayAfter(turns: number): Promise<{ ms: number; requests: number }> {
    const script: Reply[] = [];
    for (let t = 0; t < turns; t++)
      script.push({
        tools: [0, 1, 2].map((k) => ({ id: `t${t}-${k}`, name: 'read_file', args: { path: 'a.txt' } })),
      });
    script.push(
      { tool: { id: 'ask', name: 'write_file', args: { path: 'b.txt', content: 'x' } } },
      { text: 'done' },
    );
    server.script.splice(0, Infinity, ...script);
    server.requests.length = 0;
    const { id } = await client.start(agentWorkflow, { prompt: 'go', approvalTimeoutMs: 600_000 });
    let pending;
    for (;;) {
      pending = (await approvals.list()).find((a) => a.executionId === id);
      if (pending && (await client.get(id)).status === 'waiting') break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const before = server.requests.length;
    const t0 = Date.now();
    await approvals.decide(store, pending.id, {
      approved: true,
      by: 'bench',
      reason: null,
      remember: 'once',
    });
    const done = await client.waitFor(id, { timeout: '5m' });
    if ((done.output as unknown as AgentResult).turns !== turns + 2)
      throw new Error('the agent run did not take the turns it was scripted for');
    return { ms: done.finishedAt!.getTime() - t0, requests: server.requests.length - before };
  }
  const replays: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const empty = await replayAfter(0);
    const full = await replayAfter(20);
    // The one request after the approval is the final turn's, in both.
    if (full.requests !== 1 || empty.requests !== 1)
      throw new Error(`the replay made requests: ${full.requests}`);
    replays.push(full.ms - empty.ms);
    console.log(
      `repeat ${r + 1}: approval → end, 20 turns × 3 tool calls replayed: ${full.ms} ms; no turns: ${empty.ms} ms; requests during the replay: ${full.requests - 1}`,
    );
  }
  await agentWorker.stop();
  await store.close();

  // ---- policy_check_us ----------------------------------------------------------------------
  const rules = { allow: [] as string[], ask: [] as string[], deny: [] as string[] };
  for (let i = 0; i < 200; i++) {
    const list = i % 3 === 0 ? rules.deny : i % 3 === 1 ? rules.ask : rules.allow;
    list.push(
      [
        `read_file(src/module${i}/**)`,
        `run_command(npm run task${i} *)`,
        `edit_file(**/file${i}.ts)`,
        `mcp:server${i}:*`,
      ][i % 4]!,
    );
  }
  const policy = new PermissionPolicy(rules);
  const calls = [
    { tool: 'read_file', path: 'src/module150/deep/x.ts' },
    { tool: 'run_command', argv: ['npm', 'run', 'task199', '--watch'] },
    { tool: 'edit_file', path: 'a/b/c/file7.ts' },
    { tool: 'mcp:server3:thing' },
    { tool: 'write_file', path: 'nothing/matches.txt' },
  ];
  const checks: number[] = [];
  for (let r = 0; r < REPEAT; r++) {
    const t0 = performance.now();
    for (let i = 0; i < CHECKS; i++) policy.decide(calls[i % calls.length]!);
    checks.push(((performance.now() - t0) / CHECKS) * 1000);
  }
  console.log(`permission check, 200 rules: ${checks.map((c) => c.toFixed(2)).join(', ')} µs per call`);

  console.log(
    `PostgreSQL ${(await admin.query('SHOW server_version')).rows[0].server_version}, Node ${process.version}; ${CALLS} calls × ${REPEAT} repeats`,
  );
  console.log(
    JSON.stringify({
      suite: 'ai',
      ...load.end(),
      bare_p50_ms: Number(median(bareP50).toFixed(2)),
      durable_p50_ms: Number(median(durableP50).toFixed(2)),
      bare_p99_ms: Number(median(bareP99).toFixed(2)),
      durable_p99_ms: Number(median(durableP99).toFixed(2)),
      added_p50_ms: Number(added.toFixed(2)),
      replay_20_turns_ms: Math.round(median(replays)),
      policy_check_us: Number(median(checks).toFixed(2)),
    }),
  );
} finally {
  await server.close();
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.end();
}
