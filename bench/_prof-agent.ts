// Temporary: profile an agent replay (not committed).
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Client, PermissionPolicy, Store, Worker, createLogger, type WorkflowDefinition } from '@baton/core';
import { Ai, ApprovalStore, BUILTIN_TOOLS, ToolSandbox, defineAgent } from '@baton/ai';
import { startLlmServer, type Reply } from '../packages/ai/test/llm-servers.js';
const BASE_URL = 'postgres://postgres@127.0.0.1:5432/test';
const admin = new pg.Client({ connectionString: BASE_URL });
await admin.connect();
const db = `bench_prof_${randomBytes(4).toString('hex')}`;
await admin.query(`CREATE DATABASE ${db}`);
const url = new URL(BASE_URL); url.pathname = `/${db}`;
const server = await startLlmServer('openai', []);
const store = await Store.open({ databaseUrl: url.toString(), logger: createLogger('warn') });
await store.migrate();
const ai = await Ai.open(store, { llm_providers: { failover_order: ['openai'], providers: { openai: { model: 'gpt-4-turbo', api_key: 'b', endpoint: server.url, max_retries: 0 } } } });
const root = mkdtempSync(join(tmpdir(), 'prof-'));
writeFileSync(join(root, 'a.txt'), 'alpha\n');
const wf = defineAgent({ name: 'p', system: 's', tools: Object.values(BUILTIN_TOOLS), maxSteps: 100 }, { ai, sandbox: new ToolSandbox({ root }), policy: new PermissionPolicy({ allow: ['read_file'] }) });
const worker = new Worker(store, { workflows: [wf as WorkflowDefinition], pollInterval: 50 });
await worker.start();
const client = new Client(store);
const approvals = new ApprovalStore(store.driver);
for (let r = 0; r < 6; r++) {
  const script: Reply[] = [];
  for (let t = 0; t < 20; t++) script.push({ tools: [0, 1, 2].map((k) => ({ id: `t${t}-${k}`, name: 'read_file', args: { path: 'a.txt' } })) });
  script.push({ tool: { id: 'ask', name: 'write_file', args: { path: 'b.txt', content: 'x' } } }, { text: 'done' });
  server.script.splice(0, Infinity, ...script); server.requests.length = 0;
  const { id } = await client.start(wf, { prompt: 'go', approvalTimeoutMs: 600000 });
  let pending;
  for (;;) { pending = (await approvals.list()).find((a) => a.executionId === id); if (pending && (await client.get(id)).status === 'waiting') break; await new Promise((r) => setTimeout(r, 20)); }
  const t0 = Date.now();
  await approvals.decide(store, pending.id, { approved: true, by: 'b', reason: null, remember: 'once' });
  const done = await client.waitFor(id, { timeout: '5m' });
  console.log('replay', done.finishedAt!.getTime() - t0);
}
await worker.stop(); await store.close(); await server.close();
await admin.query(`DROP DATABASE ${db} WITH (FORCE)`); await admin.end();
