// MCP over stdio against @modelcontextprotocol/server-everything and a server that dies mid-call:
// tools named mcp:<server>:<tool>, calls under the permission rules and audit, clear errors.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, PermissionPolicy, Store, Worker, type WorkflowDefinition } from '@baton/core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietLogger } from '../../core/test/backends.js';
import { Ai, AuditLog, McpServers, ToolSandbox, defineAgent, type AgentResult } from '../src/index.js';
import { fixtureConfig } from './ai-helpers.js';
import { startLlmServer, type LoopbackServer } from './llm-servers.js';

const EVERYTHING = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-everything/dist/index.js',
);
const DYING = fileURLToPath(new URL('./fixtures/mcp-dying-server.ts', import.meta.url));
const signal = new AbortController().signal;

describe('MCP servers', () => {
  let mcp: McpServers;
  const sandbox = new ToolSandbox({ root: mkdtempSync(join(tmpdir(), 'baton-mcp-')) });

  beforeAll(async () => {
    mcp = await McpServers.open({
      everything: { command: process.execPath, args: [EVERYTHING, 'stdio'] },
      dying: { command: process.execPath, args: ['--import', 'tsx', DYING] },
    });
  });
  afterAll(() => mcp.close());

  it('lists each server tool as mcp:<server>:<tool>, with its schema, and calls it', async () => {
    const names = mcp.tools.map((t) => t.name);
    expect(names).toContain('mcp:everything:echo');
    expect(names).toContain('mcp:dying:die');
    const echo = mcp.tools.find((t) => t.name === 'mcp:everything:echo')!;
    // readOnlyHint: safe to run again after a crash.
    expect(echo.idempotent).toBe(true);
    expect(echo.input.safeParse({ message: 'hi' }).success).toBe(true);
    expect(echo.input.safeParse({}).success).toBe(false);
    expect(await echo.run({ message: 'hello' } as never, { sandbox, signal })).toMatch(/hello/);
  });

  it('reports a server that dies during a call, naming it and its last words', async () => {
    const die = mcp.tools.find((t) => t.name === 'mcp:dying:die')!;
    await expect(die.run({} as never, { sandbox, signal })).rejects.toThrow(
      /MCP server 'dying' failed during die: .*dying on purpose/,
    );
  });

  it('refuses a server that does not start, naming it', async () => {
    await expect(
      McpServers.open({
        broken: {
          command: process.execPath,
          args: ['-e', 'console.error("no config here"); process.exit(3)'],
        },
      }),
    ).rejects.toMatchObject({
      code: 'E_CONFIG_INVALID',
      message: expect.stringMatching(
        /MCP server 'broken' did not start: .*no config here.*check mcp_servers\.broken/,
      ),
    });
  });

  it('puts MCP tools under the permission rules and the audit log, offered to the model under a name it accepts', async () => {
    const store = await Store.open({ dataDir: 'memory://', logger: quietLogger() });
    let server: LoopbackServer | undefined;
    let worker: Worker | undefined;
    try {
      await store.migrate();
      server = await startLlmServer('openai', [
        {
          tools: [
            { id: 'm1', name: 'mcp_everything_echo', args: { message: 'ping' } },
            { id: 'm2', name: 'mcp_everything_get-sum', args: { a: 1, b: 2 } },
          ],
        },
        { text: 'echoed' },
      ]);
      const config = await fixtureConfig();
      Object.assign(config.llm_providers!.providers!.openai, { endpoint: server.url, max_retries: 0 });
      config.llm_providers!.failover_order = ['openai'];
      const ai = await Ai.open(store, config, { logger: quietLogger() });
      const agent = defineAgent(
        {
          name: 'mcp-user',
          system: 'x',
          tools: mcp.tools.filter((t) => t.name.startsWith('mcp:everything:')),
        },
        {
          ai,
          sandbox,
          policy: new PermissionPolicy({ allow: ['mcp:everything:echo'], deny: ['mcp:*:get-sum'] }),
        },
      );
      worker = new Worker(store, { workflows: [agent as WorkflowDefinition], pollInterval: 20 });
      await worker.start();
      const client = new Client(store);
      const { id } = await client.start(agent, { prompt: 'echo ping' });
      expect((await client.result<AgentResult>(id, { timeout: '30s' })).text).toBe('echoed');
      const offered = Object.keys(
        (server.requests[0].tools as { function: { name: string } }[]).reduce(
          (o, t) => ({ ...o, [t.function.name]: 1 }),
          {},
        ),
      );
      expect(offered).toContain('mcp_everything_echo');
      const results = (
        server.requests[1].messages as { role: string; tool_call_id: string; content: string }[]
      ).filter((m) => m.role === 'tool');
      expect(results.find((m) => m.tool_call_id === 'm1')?.content).toMatch(/ping/);
      expect(results.find((m) => m.tool_call_id === 'm2')?.content).toMatch(/denied by deny: mcp:\*:get-sum/);
      const audit = await new AuditLog(store.driver).list({ executionId: id });
      expect(audit.map((a) => [a.tool, a.decision])).toEqual([
        ['mcp:everything:echo', 'allow'],
        ['mcp:everything:get-sum', 'deny'],
      ]);
    } finally {
      await worker?.stop({ deadline: 2000 });
      await server?.close();
      await store.close();
    }
  });

  it('speaks Streamable HTTP to a server at a URL', async () => {
    // A free port, then server-everything's HTTP transport on it.
    const port = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, '127.0.0.1', () => {
        const p = (probe.address() as { port: number }).port;
        probe.close(() => resolve(p));
      });
    });
    const child = spawn(process.execPath, [EVERYTHING, 'streamableHttp'], {
      env: { ...process.env, PORT: String(port) },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (d: Buffer) => {
          err += d.toString();
          if (err.includes('listening')) resolve();
        });
        child.on('exit', (code) => reject(new Error(`server-everything exited with ${code}: ${err}`)));
      });
      const http = await McpServers.open({
        remote: { url: `http://127.0.0.1:${port}/mcp`, headers: { 'x-client': 'baton' } },
      });
      try {
        const echo = http.tools.find((t) => t.name === 'mcp:remote:echo')!;
        expect(await echo.run({ message: 'over http' } as never, { sandbox, signal })).toMatch(/over http/);
      } finally {
        await http.close();
      }
    } finally {
      child.kill();
    }
  });
});
