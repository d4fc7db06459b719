// `baton agents run|show`, `baton approvals` and `baton audit`: the real binary against a loopback
// OpenAI server, on an embedded store, with agent_permissions.yaml; asks denied without a terminal,
// or answered from a second process with --approval-timeout.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../core/test/backends.js';
import { startLlmServer, type LoopbackServer } from '../../ai/test/llm-servers.js';
import { createRequire } from 'node:module';
import { BIN, baton } from './run-baton.js';

const EVERYTHING = createRequire(import.meta.url).resolve(
  '@modelcontextprotocol/server-everything/dist/index.js',
);

describe('baton agents, approvals and audit (embedded PGlite)', () => {
  let server: LoopbackServer;
  let dir: string;
  let root: string;
  let g: string[];

  beforeAll(async () => {
    server = await startLlmServer('openai', []);
    dir = mkdtempSync(join(tmpdir(), 'baton-agents-cli-'));
    root = join(dir, 'project');
    mkdirSync(join(dir, 'baton', 'base'), { recursive: true });
    mkdirSync(root);
    writeFileSync(join(root, 'notes.txt'), 'remember the milk\n');
    writeFileSync(
      join(dir, 'baton', 'base', 'llm_providers.yaml'),
      `failover_order: [openai]\nproviders:\n  openai:\n    model: gpt-4-turbo\n    api_key: test-key\n    endpoint: ${server.url}\n    max_retries: 0\n`,
    );
    writeFileSync(
      join(dir, 'baton', 'base', 'agent_permissions.yaml'),
      'allow:\n  - read_file\n  - list_files\ndeny:\n  - run_command(rm *)\n',
    );
    g = ['--data-dir', join(dir, 'db'), '--config-dir', join(dir, 'baton')];
  });
  afterAll(() => server.close());

  it('runs the coder headless: allowed calls run, asks are denied, and show prints the transcript', async () => {
    server.script.splice(
      0,
      Infinity,
      {
        tools: [
          { id: 'a1', name: 'read_file', args: { path: 'notes.txt' } },
          { id: 'a2', name: 'write_file', args: { path: 'todo.txt', content: 'milk' } },
          { id: 'a3', name: 'run_command', args: { argv: ['rm', '-rf', '.'] } },
        ],
      },
      { text: 'The notes say to remember the milk; I could not write todo.txt.' },
    );
    server.requests.length = 0;
    const r = await baton([
      ...g,
      'agents',
      'run',
      'coder',
      '--prompt',
      'what is in notes.txt?',
      '--root',
      root,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/no terminal: asks are denied/);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({
      text: expect.stringMatching(/remember the milk/),
      turns: 2,
      toolCalls: 3,
      stoppedBy: 'answer',
    });
    expect(() => readFileSync(join(root, 'todo.txt'))).toThrow();
    const show = await baton([...g, 'agents', 'show', out.id]);
    expect(show.code, show.stderr).toBe(0);
    expect(show.stdout).toMatch(/user: what is in notes.txt\?/);
    expect(show.stdout).toMatch(
      /→ read_file \{"path":"notes.txt"\}\n {4}allow \(allow: read_file\)\n {4}← 1\tremember the milk/,
    );
    expect(show.stdout).toMatch(/→ write_file .*\n {4}denied by headless/);
    expect(show.stdout).toMatch(/→ run_command .*\n {4}deny \(deny: run_command\(rm \*\)\)/);
    expect(show.stdout).toMatch(/assistant: The notes say/);
    const audit = JSON.parse((await baton([...g, 'audit', '--execution', out.id, '--json'])).stdout) as {
      decision: string;
    }[];
    expect(audit.map((a) => a.decision)).toEqual(['allow', 'deny', 'denied']);
  });

  it('waits for an answer given from another process with --approval-timeout, and writes an always answer', async () => {
    server.script.splice(
      0,
      Infinity,
      { tool: { id: 'w1', name: 'write_file', args: { path: 'todo.txt', content: 'milk\n' } } },
      { text: 'wrote it' },
    );
    server.requests.length = 0;
    const child = spawn(
      process.execPath,
      [
        BIN,
        ...g,
        'agents',
        'run',
        'coder',
        '--prompt',
        'write todo',
        '--root',
        root,
        '--approval-timeout',
        '60s',
      ],
      {
        env: { ...process.env, BATON_DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let stdout = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.on('exit', r));
    // The run has opened (and migrated) the store once it names itself.
    await eventually(async () => /agent\.coder \S+/.test(stderr), 30_000, 'the run to start');
    let pending: { id: string; tool: string }[] = [];
    await eventually(
      async () => {
        const list = await baton([...g, 'approvals', 'list', '--json']);
        pending = list.code === 0 ? JSON.parse(list.stdout) : [];
        return pending.length === 1;
      },
      30_000,
      'the approval request',
    );
    expect(pending[0].tool).toBe('write_file');
    const wrong = await baton([...g, 'approvals', 'approve', 'no-such-id']);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/E_NOT_FOUND.*no approval request 'no-such-id'/);
    const ok = await baton([
      ...g,
      'approvals',
      'approve',
      pending[0].id,
      '--remember',
      'always',
      '--as',
      'carol',
    ]);
    expect(ok.code, ok.stderr).toBe(0);
    expect(await exited).toBe(0);
    expect(stdout).toMatch(/wrote it/);
    expect(readFileSync(join(root, 'todo.txt'), 'utf8')).toBe('milk\n');
    expect(JSON.parse(readFileSync(join(root, '.baton', 'agent_permissions.json'), 'utf8'))).toEqual({
      allow: ['write_file(todo.txt)'],
    });
    // The always answer now allows the same call, for policy check run in the project.
    const check = await baton(
      ['--config-dir', join(dir, 'baton'), 'policy', 'check', 'write_file(todo.txt)', '--json'],
      { cwd: root },
    );
    expect(JSON.parse(check.stdout)).toEqual({ decision: 'allow', rule: 'allow: write_file(todo.txt)' });
    const again = await baton([...g, 'approvals', 'deny', pending[0].id]);
    expect(again.stderr).toMatch(/E_INVALID_STATE.*already approved by carol/);
  });

  it('refuses an unknown agent with a did-you-mean, and a run with nothing to do', async () => {
    const unknown = await baton([...g, 'agents', 'run', 'codr', '--prompt', 'x']);
    expect(unknown.stderr).toMatch(/E_NOT_FOUND.*no agent 'codr' \(did you mean 'coder'\?\)/);
    const empty = await baton([...g, 'agents', 'run', 'coder']);
    expect(empty.stderr).toMatch(/E_INPUT_INVALID.*give the agent something to do/);
    const bad = await baton([...g, 'approvals', 'approve', 'x', '--remember', 'forever']);
    expect(bad.stderr).toMatch(/--remember forever: use once, session or always/);
  });

  it("gives the agent the configured MCP servers' tools, under the same rules", async () => {
    const mcpDir = join(dir, 'baton-mcp');
    mkdirSync(join(mcpDir, 'base'), { recursive: true });
    for (const f of ['llm_providers.yaml'])
      writeFileSync(join(mcpDir, 'base', f), readFileSync(join(dir, 'baton', 'base', f)));
    writeFileSync(join(mcpDir, 'base', 'agent_permissions.yaml'), 'allow:\n  - mcp:everything:echo\n');
    writeFileSync(
      join(mcpDir, 'base', 'mcp_servers.yaml'),
      `everything:\n  command: ${process.execPath}\n  args: [${JSON.stringify(EVERYTHING)}, stdio]\n`,
    );
    server.script.splice(
      0,
      Infinity,
      { tool: { id: 'e1', name: 'mcp_everything_echo', args: { message: 'over mcp' } } },
      { text: 'echoed' },
    );
    server.requests.length = 0;
    const r = await baton([
      '--data-dir',
      join(dir, 'db'),
      '--config-dir',
      mcpDir,
      'agents',
      'run',
      'coder',
      '--prompt',
      'echo',
      '--root',
      root,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const { id } = JSON.parse(r.stdout);
    const result = (server.requests[1].messages as { role: string; content: string }[]).find(
      (m) => m.role === 'tool',
    );
    expect(result?.content).toMatch(/over mcp/);
    const audit = JSON.parse((await baton([...g, 'audit', '--execution', id, '--json'])).stdout) as {
      tool: string;
      decision: string;
    }[];
    expect(audit).toEqual([expect.objectContaining({ tool: 'mcp:everything:echo', decision: 'allow' })]);
  });
});
