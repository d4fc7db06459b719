// `baton chat` headless (-p), the real binary against a loopback OpenAI server, sessions in the
// project's .baton/: every output format, -c carrying the conversation, -r by id and the list, a
// denied ask (exit 2), a SIGKILL mid-turn then -c (nothing lost, nothing run twice), and bad input.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../core/test/backends.js';
import { startLlmServer, type LoopbackServer } from '../../ai/test/llm-servers.js';
import { BIN, baton } from './run-baton.js';

describe('baton chat, headless (embedded PGlite in the project)', () => {
  let server: LoopbackServer;
  let dir: string;
  let root: string;
  let config: string;
  /** The model's next replies, in turn (the server picks a reply by its request count). */
  const script = (...replies: LoopbackServer['script']) => {
    server.script.splice(0, Infinity, ...replies);
    server.requests.length = 0;
  };
  const chat = (...args: string[]) => baton(['--config-dir', config, 'chat', '--root', root, ...args]);
  /** The user messages of the last request the model received, without their project context. */
  const sentMessages = () =>
    (server.requests.at(-1)!.messages as { role: string; content: unknown }[])
      .filter((m) => m.role === 'user')
      .map((m) => (typeof m.content === 'string' ? m.content : JSON.stringify(m.content)))
      .map((text) => text.replace(/\n\n<project-context>\n[\s\S]*<\/project-context>$/, ''));

  beforeAll(async () => {
    server = await startLlmServer('openai', []);
    dir = mkdtempSync(join(tmpdir(), 'baton-chat-cli-'));
    root = join(dir, 'project');
    config = join(dir, 'baton');
    mkdirSync(join(config, 'base'), { recursive: true });
    mkdirSync(root);
    writeFileSync(join(root, 'notes.txt'), 'remember the milk\n');
    writeFileSync(
      join(config, 'base', 'llm_providers.yaml'),
      `failover_order: [openai]\nproviders:\n  openai:\n    model: gpt-4-turbo\n    api_key: test-key\n    endpoint: ${server.url}\n    max_retries: 0\n`,
    );
    writeFileSync(join(config, 'base', 'agent_permissions.yaml'), 'allow:\n  - read_file\n');
  });
  afterAll(() => server.close());

  it('answers -p as text, keeps the session in the project, and -c carries the conversation on', async () => {
    script({ text: 'Hello! How can I help?', usage: { input: 12, output: 6 } });
    const first = await chat('-p', 'hello there');
    expect(first.code, first.stderr).toBe(0);
    expect(first.stdout).toBe('Hello! How can I help?\n');
    expect(first.stderr).toMatch(
      /^turn 1: 1 model steps, 0 tool calls, 12 in \/ 6 out, \$\d+\.\d{4} {2}\(session \S+\)/m,
    );
    expect(existsSync(join(root, '.baton', 'db'))).toBe(true);

    script({ text: 'You said hello.' });
    const second = await chat('-c', '-p', 'what did I say first?');
    expect(second.code, second.stderr).toBe(0);
    expect(second.stdout).toBe('You said hello.\n');
    expect(second.stderr).toMatch(/^turn 2: /m);
    // The model saw the whole conversation: both messages, and its own first answer.
    expect(sentMessages()).toEqual(['hello there', 'what did I say first?']);
    expect(JSON.stringify(server.requests.at(-1)!.messages)).toContain('Hello! How can I help?');
  });

  it('prints json and stream-json, -r goes back to a session by id, and AGENTS.md is read', async () => {
    writeFileSync(join(root, 'AGENTS.md'), 'Answer in one short sentence.\n');
    script({ text: 'Forty-two.', usage: { input: 20, output: 3 } });
    const j = await chat('-p', 'the answer?', '--output-format', 'json');
    expect(j.code, j.stderr).toBe(0);
    // The project's AGENTS.md reaches the model as instructions.
    const system = (server.requests[0]!.messages as { role: string; content: string }[])[0]!;
    expect(system.role).toBe('system');
    expect(system.content).toContain(
      '<instructions file="AGENTS.md">\nAnswer in one short sentence.\n</instructions>',
    );
    const out = JSON.parse(j.stdout);
    expect(out).toMatchObject({
      session: expect.any(String),
      result: 'Forty-two.',
      usage: { input_tokens: 20, output_tokens: 3 },
      cost: expect.any(Number),
      turns: 1,
      tool_calls: 0,
      stopped_by: 'answer',
    });

    script({ text: 'Still forty-two.' });
    const s = await chat('-r', out.session, '-p', 'sure?', '--output-format', 'stream-json');
    expect(s.code, s.stderr).toBe(0);
    const events = s.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    // The session, the turn's parts as they streamed (text, then the model step's usage), the turn, the result.
    const types = events.map((e) => e.type);
    expect(types[0]).toBe('session');
    expect(types.slice(-3)).toEqual(['step', 'turn', 'result']);
    expect(new Set(types.slice(1, -3))).toEqual(new Set(['text']));
    expect(
      events
        .filter((e) => e.type === 'text')
        .map((e) => e.delta)
        .join(''),
    ).toBe('Still forty-two.');
    expect(events[0]).toEqual({ type: 'session', session: out.session, resumed: true });
    expect(events.at(-3)).toMatchObject({ inputTokens: 10, outputTokens: 5 });
    expect(events.at(-2)).toMatchObject({ turn: 2, text: 'Still forty-two.', interrupted: false });
    expect(events.at(-1)).toMatchObject({ session: out.session, result: 'Still forty-two.' });

    const list = await chat('-r');
    expect(list.code).toBe(0);
    expect(list.stdout).toContain(out.session);
    expect(list.stdout).toMatch(/the answer\?/);
  });

  it('runs allowed tools, denies an ask with no one to ask, and exits 2', async () => {
    script(
      {
        tools: [
          { id: 'c1', name: 'read_file', args: { path: 'notes.txt' } },
          { id: 'c2', name: 'write_file', args: { path: 'todo.txt', content: 'milk' } },
        ],
      },
      { text: 'The notes say milk; I was not allowed to write todo.txt.' },
    );
    const r = await chat('-p', 'make a todo from the notes', '--output-format', 'json');
    expect(r.code, r.stdout + r.stderr).toBe(2);
    // The message went with a map of the project's files that rank best for it.
    const asked = (server.requests[0]!.messages as { role: string; content: string }[]).at(-1)!;
    expect(asked.content).toMatch(
      /^make a todo from the notes\n\n<project-context>\n(.*\n)*notes\.txt\n?(.*\n)*<\/project-context>$/,
    );
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ tool_calls: 2, refused_calls: 1, turns: 2 });
    expect(existsSync(join(root, 'todo.txt'))).toBe(false);
    // --context-budget 0: the message goes alone.
    script({ text: 'No context this time.' });
    const none = await chat('-p', 'make a todo from the notes', '--context-budget', '0');
    expect(none.code, none.stderr).toBe(0);
    expect((server.requests[0]!.messages as { content: string }[]).at(-1)!.content).toBe(
      'make a todo from the notes',
    );
    // --allow lets it through for this run
    script(
      { tool: { id: 'c3', name: 'write_file', args: { path: 'todo.txt', content: 'milk' } } },
      { text: 'Written.' },
    );
    const allowed = await chat('-c', '-p', 'write it', '--allow', 'write_file(todo.txt)');
    expect(allowed.code, allowed.stderr).toBe(0);
    expect(existsSync(join(root, 'todo.txt')), allowed.stdout + allowed.stderr).toBe(true);
    expect(readFileSync(join(root, 'todo.txt'), 'utf8')).toBe('milk');
  });

  it('survives a SIGKILL mid-turn: -c finishes the turn, shows it as interrupted, and runs nothing twice', async () => {
    script(
      { tool: { id: 'k1', name: 'read_file', args: { path: 'notes.txt' } } },
      // the answer the killed process waits for, never received
      { text: 'This answer is lost with the process.', delayMs: 4000 },
      // the resumed turn asks again
      { text: 'The notes say: remember the milk.' },
      { text: 'And now the next answer.' },
    );
    const before = 0;
    const child = spawn(
      process.execPath,
      [BIN, '--config-dir', config, 'chat', '--root', root, '-p', 'read my notes'],
      {
        env: { ...process.env, BATON_DATABASE_URL: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let said = '';
    child.stdout.on('data', (d: Buffer) => (said += d.toString()));
    child.stderr.on('data', (d: Buffer) => (said += d.toString()));
    // Killed while the model's second answer is slow: the tool call is recorded, the turn is not.
    await eventually(
      async () => server.requests.length >= before + 2,
      20_000,
      `the second model request; the chat said: ${said}`,
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.on('exit', r));

    const r = await chat('-c', '-p', 'and then?');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(
      /\(turn \d+ was interrupted, and has now finished\)\nThe notes say: remember the milk\./,
    );
    expect(r.stdout).toBe('And now the next answer.\n');
    // Nothing ran twice: the model's first step (the tool call) and the call's decision came from
    // the history; the only new requests are the resumed step and the next message's.
    expect(server.requests.length).toBe(4);
    expect(JSON.stringify(server.requests[2]!.messages)).toContain('remember the milk');
    const session = /\(session (\S+)\)/.exec(r.stderr)![1]!;
    const audit = JSON.parse(
      (await baton(['--data-dir', join(root, '.baton', 'db'), 'audit', '--execution', session, '--json']))
        .stdout,
    ) as { toolCallId: string; decision: string }[];
    expect(audit.filter((a) => a.toolCallId === 'k1').map((a) => a.decision)).toEqual(['allow']);
    expect(sentMessages().slice(-2)).toEqual(['read my notes', 'and then?']);
  }, 90_000);

  it('undoes the files a turn changed, without git, and bounds what checkpoints hold', async () => {
    writeFileSync(join(root, 'plan.txt'), 'v1\n');
    script(
      {
        tools: [
          { id: 'u1', name: 'write_file', args: { path: 'plan.txt', content: 'v2\n' } },
          { id: 'u2', name: 'write_file', args: { path: 'new/created.txt', content: 'hello\n' } },
        ],
      },
      { text: 'Updated the plan and created a file.' },
    );
    const r = await chat('-p', 'update the plan', '--allow', 'write_file', '--output-format', 'json');
    expect(r.code, r.stderr).toBe(0);
    const session = JSON.parse(r.stdout).session as string;
    expect(readFileSync(join(root, 'plan.txt'), 'utf8')).toBe('v2\n');
    expect(existsSync(join(root, 'new/created.txt'))).toBe(true);

    const undo = await chat('undo', '--session', session);
    expect(undo.code, undo.stderr).toBe(0);
    expect(undo.stdout).toMatch(
      /^undid turn 1:\n {2}(removed new\/created\.txt\n {2}restored plan\.txt|restored plan\.txt\n {2}removed new\/created\.txt)\n$/,
    );
    expect(readFileSync(join(root, 'plan.txt'), 'utf8')).toBe('v1\n');
    expect(existsSync(join(root, 'new/created.txt'))).toBe(false);
    const again = await chat('undo', '--session', session);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/has no changes to undo/);

    // gc drops the oldest checkpoints past the bound: then there is nothing left to undo.
    script(
      { tool: { id: 'u3', name: 'write_file', args: { path: 'plan.txt', content: 'v3\n' } } },
      { text: 'v3.' },
    );
    expect((await chat('-r', session, '-p', 'plan v3', '--allow', 'write_file')).code).toBe(0);
    const gc = await chat('gc', '--max-bytes', '0');
    expect(gc.code, gc.stderr).toBe(0);
    expect(gc.stdout).toMatch(
      /^dropped [1-9]\d* checkpoints \([1-9]\d* bytes\); \d+ left, holding 0 bytes$/m,
    );
    expect((await chat('undo', '--session', session)).stderr).toMatch(/has no changes to undo/);
    expect(readFileSync(join(root, 'plan.txt'), 'utf8')).toBe('v3\n');
  });

  it('compacts by itself once a turn was sent past --compact-at', async () => {
    script({ text: 'a long answer', usage: { input: 1500, output: 5 } }, { text: 'SUMMARY of it' });
    const r = await chat(
      '-p',
      'tell me everything',
      '--compact-at',
      '1000',
      '--output-format',
      'stream-json',
    );
    expect(r.code, r.stderr).toBe(0);
    const turn = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l))
      .find((e) => e.type === 'turn');
    expect(turn).toMatchObject({ text: 'a long answer', compacted: true });
    // The second request was the summary's.
    expect(server.requests).toHaveLength(2);
    expect(JSON.stringify(server.requests[1])).toContain('user: tell me everything');
  });

  it('refuses bad input with what to do', async () => {
    const unknown = await chat('-r', 'no-such-session', '-p', 'x');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no chat session 'no-such-session' here; the recent ones:\n {2}\S+/);
    const format = await chat('-p', 'x', '--output-format', 'yaml');
    expect(format.code).toBe(1);
    expect(format.stderr).toMatch(/--output-format yaml: one of text, json, stream-json/);
    const compactAt = await chat('-p', 'x', '--compact-at', '5');
    expect(compactAt.code).toBe(1);
    expect(compactAt.stderr).toMatch(/--compact-at must be a whole number of tokens, 1000 or more, got '5'/);
    const empty = await chat('-p', '   ');
    expect(empty.code).toBe(1);
    expect(empty.stderr).toMatch(/the message is empty/);
    const noTty = await chat();
    expect(noTty.code).toBe(1);
    expect(noTty.stderr).toMatch(/no terminal to talk at: give the message with -p/);
    const badRule = await chat('-p', 'x', '--allow', 'write_file(');
    expect(badRule.code).toBe(1);
    const noProvider = await baton(['--config-dir', join(dir, 'empty'), 'chat', '--root', root, '-p', 'x']);
    expect(noProvider.code).toBe(1);
    expect(noProvider.stderr).toMatch(/no LLM provider is configured: add llm_providers\.yaml/);
  });
});
