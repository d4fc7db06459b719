// `baton chat` on its screen in a real terminal (tmux), against a loopback OpenAI server: an answer
// streams; a tool call that needs approval is approved at the prompt; /cost; /compact and the
// pinned instruction /context shows; the process is
// SIGKILLed, and `baton chat -c` shows the conversation; /undo puts the file back. It also measures
// (and prints, without asserting) the time to the input prompt and the delay from a token leaving
// the server to its appearance on screen.
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../core/test/backends.js';
import { startLlmServer, type LoopbackServer } from '../../ai/test/llm-servers.js';
import { tmuxInstalled } from '../../flows/test/tmux-helpers.js';
import { BIN } from './run-baton.js';

const socket = `baton-chat-tty-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const pane = (name: string) => tmux('capture-pane', '-p', '-J', '-S', '-300', '-t', name);
/** The pane without blocking this process (it serves the model's stream meanwhile). */
const paneLater = async (name: string) =>
  (await promisify(execFile)('tmux', ['-L', socket, 'capture-pane', '-p', '-J', '-S', '-300', '-t', name]))
    .stdout;
const keys = (name: string, ...k: string[]) => tmux('send-keys', '-t', name, ...k);
const TOKENS = 40;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

describe.skipIf(!tmuxInstalled())('baton chat at a terminal (tmux)', () => {
  let server: LoopbackServer;
  let dir: string;
  let root: string;

  /** Starts `baton chat …args` in a new tmux session; ink draws live frames only outside CI. */
  const start = (name: string, ...args: string[]) => {
    const command = [
      'env -u CI BATON_DATABASE_URL=',
      process.execPath,
      BIN,
      '--config-dir',
      join(dir, 'baton'),
      'chat',
      '--root',
      root,
      ...args,
      '; echo EXIT=$?; sleep 120',
    ].join(' ');
    const at = performance.now();
    tmux('new-session', '-d', '-s', name, '-x', '120', '-y', '50', command);
    return at;
  };

  beforeAll(async () => {
    server = await startLlmServer('openai', []);
    dir = mkdtempSync(join(tmpdir(), 'baton-chat-tty-'));
    root = join(dir, 'project');
    mkdirSync(join(dir, 'baton', 'base'), { recursive: true });
    mkdirSync(root);
    writeFileSync(
      join(dir, 'baton', 'base', 'llm_providers.yaml'),
      `failover_order: [openai]\nproviders:\n  openai:\n    model: gpt-4o\n    api_key: k\n    endpoint: ${server.url}\n    max_retries: 0\n`,
    );
  });
  afterAll(async () => {
    try {
      tmux('kill-server');
    } catch {
      // already gone
    }
    await server.close();
  });

  it('streams, asks, costs, survives a SIGKILL and undoes', async () => {
    const words = Array.from({ length: TOKENS }, (_, i) => `tok${i}`);
    server.script.splice(
      0,
      Infinity,
      { text: words.join(' '), frameDelayMs: 40 },
      { tool: { id: 'w1', name: 'write_file', args: { path: 'a.txt', content: 'one\n' } } },
      { text: 'I wrote **a.txt**.' },
      { text: 'SUMMARY: a story was told; a.txt was written.' },
    );
    // When each token left the server, and when it was first on screen.
    const sentAt = new Map<number, number>();
    server.onFrame = (frame) => {
      const m = /tok(\d+)/.exec(frame);
      if (m) sentAt.set(Number(m[1]), performance.now());
    };

    const launched = start('chat');
    // The input prompt and the status line are up before the session's store is open…
    await eventually(
      async () => /^> /m.test(pane('chat')) && /ask before edits/.test(pane('chat')),
      20_000,
      'the screen',
    );
    const startupMs = performance.now() - launched;
    // …which the status line shows once it is.
    await eventually(async () => /openai\/gpt-4o/.test(pane('chat')), 20_000, 'the session');
    const readyMs = performance.now() - launched;

    keys('chat', '-l', 'tell me a story');
    keys('chat', 'Enter');
    const seenAt = new Map<number, number>();
    const deadline = Date.now() + 30_000;
    while (seenAt.size < TOKENS && Date.now() < deadline) {
      const text = await paneLater('chat');
      const now = performance.now();
      for (const m of text.matchAll(/tok(\d+)/g))
        if (!seenAt.has(Number(m[1]))) seenAt.set(Number(m[1]), now);
    }
    // Every token reached the screen, in order, while the answer was still streaming.
    expect(seenAt.size).toBe(TOKENS);
    expect(seenAt.get(0)!).toBeLessThan(seenAt.get(TOKENS - 1)! - 500);
    const delays = [...seenAt].filter(([i]) => sentAt.has(i)).map(([i, at]) => at - sentAt.get(i)!);
    console.log(
      `chat screen: startup to the input prompt ${startupMs.toFixed(0)} ms, session ready ${readyMs.toFixed(0)} ms; token to screen p50 ${median(delays).toFixed(1)} ms, max ${Math.max(...delays).toFixed(1)} ms (${delays.length} tokens, capture-pane polling included)`,
    );
    await eventually(
      async () => /0\.0k|in · \d+ out/.test(pane('chat')) && !/●/.test(pane('chat')),
      10_000,
      'the turn to end',
    );

    // A tool call the rules ask about: the prompt, approved once.
    keys('chat', '-l', 'write a.txt. Always keep a trailing newline.');
    keys('chat', 'Enter');
    await eventually(async () => /allow for this session/.test(pane('chat')), 20_000, 'the approval prompt');
    expect(pane('chat')).toMatch(/write_file \{"path":"a.txt","content":"one\\n"\}/);
    await new Promise((r) => setTimeout(r, 200)); // as a person would: the prompt takes keys once drawn
    keys('chat', '1');
    await eventually(async () => /I wrote a\.txt\./.test(pane('chat')), 20_000, 'the answer after the tool');
    expect(pane('chat')).toMatch(/✓ write_file a\.txt {2}\+1 −0/);
    expect(existsSync(join(root, 'a.txt'))).toBe(true);

    keys('chat', '-l', '/cost');
    keys('chat', 'Enter');
    await eventually(
      async () => /this session: \d+ tokens in, \d+ out, \$/.test(pane('chat')),
      10_000,
      '/cost',
    );

    // /compact: the conversation goes on from a summary; the instruction stays pinned. It waits
    // for the turn to end (the status line's ● goes), as the screen asks.
    await eventually(async () => !/●/.test(pane('chat')), 20_000, 'the turn to end');
    keys('chat', '-l', '/compact the file');
    keys('chat', 'Enter');
    await eventually(async () => /SUMMARY: a story was told/.test(pane('chat')), 20_000, '/compact');
    expect(JSON.stringify(server.requests.at(-1))).toContain('Focus the summary on: the file');
    keys('chat', '-l', '/context');
    keys('chat', 'Enter');
    await eventually(async () => /- Always keep a trailing newline\./.test(pane('chat')), 20_000, '/context');
    expect(pane('chat')).toMatch(/checkpoints: 1, holding \d+ bytes/);
    keys('chat', '-l', '/model openai gpt-4o-mini');
    keys('chat', 'Enter');
    await eventually(
      async () => /from the next message: openai\/gpt-4o-mini/.test(pane('chat')),
      10_000,
      '/model',
    );
    await eventually(
      async () => /openai\/gpt-4o-mini · ask before edits/.test(pane('chat')),
      5_000,
      'the status line',
    );

    // SIGKILL (the pane's shell runs baton as its child), then -c: the conversation is back.
    const shell = tmux('display-message', '-p', '-t', 'chat', '#{pane_pid}').trim();
    execFileSync('pkill', ['-KILL', '-P', shell]);
    await eventually(async () => /EXIT=137/.test(pane('chat')), 10_000, 'the kill');
    start('again', '-c');
    await eventually(async () => /\(compacted: SUMMARY/.test(pane('again')), 20_000, 'the history').catch(
      (e) => {
        console.log(pane('again'));
        throw e;
      },
    );
    const history = pane('again');
    expect(history).toMatch(/> tell me a story/);
    expect(history).toMatch(/tok0 tok1 tok2/);
    expect(history).toMatch(/> write a\.txt\. Always keep a trailing newline\./);
    expect(history).toMatch(/> \/compact the file/);
    expect(history).toMatch(/\(compacted: SUMMARY: a story was told/);
    expect(history).toMatch(/✓ write_file a\.txt/);

    keys('again', '-l', '/undo');
    keys('again', 'Enter');
    await eventually(async () => /undid turn 2/.test(pane('again')), 20_000, '/undo');
    expect(existsSync(join(root, 'a.txt'))).toBe(false);
    keys('again', '-l', '/exit');
    keys('again', 'Enter');
  }, 120_000);

  it('at a terminal without a provider, erases its screen and says what to add', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'baton-chat-noprovider-'));
    tmux(
      'new-session',
      '-d',
      '-s',
      'none',
      '-x',
      '120',
      '-y',
      '20',
      `env -u CI -u BATON_CONFIG_DIR BATON_DATABASE_URL= ${process.execPath} ${BIN} chat --root ${empty}; echo EXIT=$?; sleep 60`,
    );
    await eventually(async () => /EXIT=1/.test(pane('none')), 20_000, 'the exit');
    expect(pane('none')).toMatch(/no LLM provider is configured: add llm_providers\.yaml/);
    expect(pane('none')).not.toMatch(/ask before edits/);
  });

  it('shows a turn a SIGKILL interrupted as interrupted, then its answer once it has finished', async () => {
    const words = Array.from({ length: 30 }, (_, i) => `slow${i}`);
    server.requests.length = 0;
    server.script.splice(
      0,
      Infinity,
      { text: words.join(' '), frameDelayMs: 150 },
      { text: 'finished after the crash' },
    );
    start('mid');
    await eventually(async () => /openai\/gpt-4o/.test(pane('mid')), 20_000, 'the session');
    keys('mid', '-l', 'a long answer please');
    keys('mid', 'Enter');
    await eventually(async () => /slow3\b/.test(pane('mid')), 20_000, 'the stream to start');
    const shell = tmux('display-message', '-p', '-t', 'mid', '#{pane_pid}').trim();
    execFileSync('pkill', ['-KILL', '-P', shell]);
    await eventually(async () => /EXIT=137/.test(pane('mid')), 10_000, 'the kill');

    start('after', '-c');
    await eventually(
      async () => /turn 1 was interrupted/.test(pane('after')),
      20_000,
      'the interrupted note',
    );
    expect(pane('after')).toMatch(/> a long answer please/);
    // Once the dead process's lease runs out, this one's worker finishes the turn.
    await eventually(
      async () => /turn 1, interrupted, has now finished/.test(pane('after')),
      30_000,
      'the turn',
    );
    expect(pane('after')).toMatch(/finished after the crash/);
    expect(server.requests).toHaveLength(2);
    keys('after', '-l', '/exit');
    keys('after', 'Enter');
  }, 90_000);
});
