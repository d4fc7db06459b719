// The tmux adapter: the agents.yaml schema and the built-in profiles, the screen classifier on canned
// screens of Claude Code, Codex CLI and Aider, and the adapter driving a fake Claude-like agent in a
// real tmux server of the test's own (never the user's).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { isBatonError } from '@baton/core';
import { agentsSchema, type AgentsConfig } from '../src/config/kinds/agents.js';
import {
  BUILTIN_AGENT_PROFILES,
  GENERIC_AGENT_PROFILE,
  resolveAgentProfile,
  type AgentProfile,
} from '../src/architect/tmux/defaults.js';
import { classify } from '../src/architect/tmux/screen.js';
import { answerText } from '../src/architect/tmux/output.js';
import { Tmux } from '../src/architect/tmux/tmux.js';
import { TmuxAgent } from '../src/architect/tmux/adapter.js';
import { tmuxInstalled } from './tmux-helpers.js';

const FAKE_AGENT = fileURLToPath(new URL('./fixtures/fake-agent.mjs', import.meta.url));

/** Rejects with a BatonError of `code`, whose message matches `message`. */
async function expectBatonError(promise: Promise<unknown>, code: string, message?: RegExp): Promise<void> {
  const err = await promise.then(
    () => expect.fail(`expected a BatonError ${code}`),
    (e: unknown) => e,
  );
  expect(isBatonError(err), String(err)).toBe(true);
  expect((err as { code: string }).code).toBe(code);
  if (message) expect((err as Error).message).toMatch(message);
}

describe('agents.yaml schema', () => {
  const entry = ({ provider: _, ...rest }: AgentProfile) => rest;

  it('accepts the built-in profiles, and gives a JSON Schema', () => {
    const providers = Object.fromEntries(
      Object.entries(BUILTIN_AGENT_PROFILES).map(([k, p]) => [k, entry(p)]),
    );
    expect(agentsSchema.safeParse({ version: '1.0', providers }).success).toBe(true);
    expect(agentsSchema.safeParse({ providers: { mytool: GENERIC_AGENT_PROFILE } }).success).toBe(true);
    const json = z.toJSONSchema(agentsSchema) as { properties: Record<string, unknown> };
    expect(Object.keys(json.properties)).toEqual(['version', 'providers']);
  });

  it('reports a pattern that does not compile, with its path', () => {
    const r = agentsSchema.safeParse({
      providers: { claude: { patterns: { idle: ['^> ?$', '(unclosed'] } } },
    });
    expect(r.success).toBe(false);
    expect(r.error?.issues).toHaveLength(1);
    expect(r.error?.issues[0].path).toEqual(['providers', 'claude', 'patterns', 'idle', 1]);
    expect(r.error?.issues[0].message).toMatch(/'\(unclosed' is not a valid regular expression/);
    const marker = agentsSchema.safeParse({ providers: { codex: { completion_marker: '[' } } });
    expect(marker.error?.issues[0].path).toEqual(['providers', 'codex', 'completion_marker']);
  });

  it('rejects unknown keys and bad values', () => {
    const bad = (providers: unknown) => agentsSchema.safeParse({ providers }).success;
    expect(bad({ claude: { patterns: { idel: [] } } })).toBe(false);
    expect(bad({ claude: { paste: 'typed' } })).toBe(false);
    expect(bad({ claude: { submit_keys: [] } })).toBe(false);
    expect(bad({ claude: { submit_keys: ['C m'] } })).toBe(false);
    expect(bad({ claude: { poll_ms: 0 } })).toBe(false);
    expect(bad({ claude: { start_command: [] } })).toBe(false);
    expect(bad({ 'bad name': {} })).toBe(false);
  });

  it('lays a file over the built-in profile key by key', () => {
    const config: AgentsConfig = {
      providers: {
        claude: {
          patterns: { waiting_input: ['Approve\\?'] },
          settle_ms: 100,
          start_command: ['claude', '--verbose'],
        },
        mytool: { start_command: 'mytool --chat', completion_marker: '^DONE$' },
      },
    };
    const claude = resolveAgentProfile('claude', config);
    expect(claude.patterns.waiting_input).toEqual(['Approve\\?']);
    expect(claude.patterns.idle).toBe(BUILTIN_AGENT_PROFILES.claude.patterns.idle);
    expect(claude.settle_ms).toBe(100);
    expect(claude.poll_ms).toBe(BUILTIN_AGENT_PROFILES.claude.poll_ms);
    expect(claude.start_command).toEqual(['claude', '--verbose']);
    const mytool = resolveAgentProfile('mytool', config);
    expect(mytool).toMatchObject({
      provider: 'mytool',
      start_command: 'mytool --chat',
      completion_marker: '^DONE$',
    });
    expect(mytool.patterns).toEqual(GENERIC_AGENT_PROFILE.patterns);
    expect(resolveAgentProfile('aider').start_command).toBe('aider');
    expect(resolveAgentProfile('other').start_command).toBeUndefined();
  });
});

describe('classify', () => {
  const claude = BUILTIN_AGENT_PROFILES.claude.patterns;
  const codex = BUILTIN_AGENT_PROFILES.codex.patterns;
  const aider = BUILTIN_AGENT_PROFILES.aider.patterns;
  const box = (inner: string) => [
    '╭────────────────────╮',
    `│ ${inner.padEnd(18)} │`,
    '╰────────────────────╯',
  ];

  it('reads Claude Code screens', () => {
    const idle = [...box('> '), '  ? for shortcuts'];
    expect(classify(idle.join('\n'), claude)).toBe('idle');
    expect(classify(['> ', '', '  ? for shortcuts'].join('\n'), claude)).toBe('idle');
    const busy = ['> fix the bug', '✻ Pondering… (12s · ↑ 1.2k tokens · esc to interrupt)', '', ...idle];
    expect(classify(busy.join('\n'), claude)).toBe('busy');
    const approval = [
      '> fix the bug',
      '⏺ Bash(rm -rf build)',
      '╭────────────────────────────────────────────╮',
      '│ Bash command                               │',
      '│   rm -rf build                             │',
      '│ Do you want to proceed?                    │',
      '│ ❯ 1. Yes                                   │',
      "│   2. Yes, and don't ask again for rm       │",
      '│   3. No, and tell Claude what to do differently (esc) │',
      '╰────────────────────────────────────────────╯',
    ];
    expect(classify(approval.join('\n'), claude)).toBe('waiting_input');
    // The approval wins even with the spinner still in view.
    expect(classify(['✻ Working… (esc to interrupt)', ...approval].join('\n'), claude)).toBe('waiting_input');
    // A question in the agent's answer, above its input box, is prose, not a dialog.
    const prose = ['⏺ I found two bugs. Do you want to fix both?', '', ...idle];
    expect(classify(prose.join('\n'), claude)).toBe('idle');
    expect(classify('', claude)).toBe('unknown');
    expect(classify('Welcome to Claude Code\n  Loading…', claude)).toBe('unknown');
  });

  it('reads Codex CLI screens', () => {
    const idle = ['• Explored', '  └ Read main.rs', '', '› Explain this codebase', '', '  ? for shortcuts'];
    expect(classify(idle.join('\n'), codex)).toBe('idle');
    const busy = ['• Explored', '', '  Working (3s • esc to interrupt)', '', '› ', '', '  ? for shortcuts'];
    expect(classify(busy.join('\n'), codex)).toBe('busy');
    const approval = [
      '  Would you like to run the following command?',
      '',
      '  $ cargo test',
      '',
      '› 1. Yes, proceed (y)',
      "  2. Yes, and don't ask again for commands that start with `cargo test` (p)",
      '  3. No, and tell Codex what to do differently (esc)',
      '',
      '  Press enter to confirm or esc to cancel',
    ];
    expect(classify(approval.join('\n'), codex)).toBe('waiting_input');
    expect(classify(['▌ Apply changes?', '▌ > 1. Approve  (Y)'].join('\n'), codex)).toBe('waiting_input');
  });

  it('reads Aider screens', () => {
    expect(classify(['aider v0.86.1', 'Main model: sonnet', '', 'diff> '].join('\n'), aider)).toBe('idle');
    expect(classify(['> fix it', '', 'Waiting for anthropic/claude-sonnet-4  ░█'].join('\n'), aider)).toBe(
      'busy',
    );
    const asking = ["Add src/app.py to the chat? (Y)es/(N)o/(D)on't ask again [Yes]: "];
    expect(classify(['> fix it', ...asking].join('\n'), aider)).toBe('waiting_input');
    expect(classify(['Run tests? [Y/n] '].join('\n'), aider)).toBe('waiting_input');
    // Answered, and back at the prompt.
    const answered = ['Add src/app.py to the chat? (Y)es/(N)o [Yes]: y', 'Added src/app.py', '', '> '];
    expect(classify(answered.join('\n'), aider)).toBe('idle');
    // Streaming an answer: no prompt and no spinner.
    expect(classify(['> fix it', '', 'Here is the change:'].join('\n'), aider)).toBe('unknown');
  });

  it('rejects a pattern that does not compile', () => {
    expect(() => classify('x', { idle: ['('], busy: [], waiting_input: [] })).toThrow(
      /not a valid regular expression/,
    );
  });
});

describe('answerText', () => {
  const patterns = BUILTIN_AGENT_PROFILES.claude.patterns;
  const box = ['╭──────╮', '│ >    │', '╰──────╯', '  ? for shortcuts'];

  it('cuts the answer between the echo of the prompt and the new input box', () => {
    const before = ['Welcome', '', ...box];
    const after = ['Welcome', '', '> line 1', '  line 2', '', '⏺ Answer', '  more', '', ...box].join('\n');
    expect(answerText({ before, prompt: 'line 1\nline 2' }, after, patterns)).toBe('⏺ Answer\n  more');
    expect(answerText({ before, prompt: 'line 1\nline 2' }, after, patterns, 'never')).toBeUndefined();
    expect(answerText({ before, prompt: 'line 1\nline 2' }, after, patterns, '^\\s+more$')).toBe(
      '⏺ Answer\n  more',
    );
  });
});

describe('tmux wrapper, without tmux', () => {
  it('says clearly when tmux is not installed', async () => {
    await expectBatonError(
      new Tmux({ binary: '/nonexistent/tmux' }).hasSession('x'),
      'E_NOT_FOUND',
      /tmux is not installed/,
    );
  });

  it('refuses names tmux would misread', async () => {
    const tmux = new Tmux({ binary: '/nonexistent/tmux' });
    await expectBatonError(tmux.capture('a:b'), 'E_INVALID_OPTION', /session name 'a:b' is not valid/);
    await expectBatonError(tmux.sendText('a.b', 'x'), 'E_INVALID_OPTION');
    await expectBatonError(tmux.killSession('-t'), 'E_INVALID_OPTION');
    expect(() => new Tmux({ socket: 'x y' })).toThrow(/socket name/);
    await expectBatonError(new Tmux().killServer(), 'E_INVALID_OPTION');
  });
});

const HAVE_TMUX = tmuxInstalled();
if (!HAVE_TMUX)
  console.warn(
    'skipping the tmux adapter tests against a real tmux: tmux is not installed (apt-get install tmux)',
  );

describe.skipIf(!HAVE_TMUX)('TmuxAgent with real tmux and the fake agent', () => {
  let sockets: string[] = [];

  afterEach(async () => {
    for (const socket of sockets) {
      await new Tmux({ socket }).killServer();
      // tmux leaves its socket file behind.
      rmSync(join(process.env.TMUX_TMPDIR || '/tmp', `tmux-${process.getuid?.()}`, socket), { force: true });
    }
    sockets = [];
  });

  /** A fake agent on a tmux server of this test's own, with fast timing. */
  function fakeAgent(options: { busyMs?: number; startupMs?: number; marker?: string } = {}): TmuxAgent {
    const socket = `baton-test-${process.pid}-${sockets.length}`;
    sockets.push(socket);
    const tmux = new Tmux({ socket, configFile: '/dev/null' });
    const command = [
      process.execPath,
      FAKE_AGENT,
      '--busy-ms',
      String(options.busyMs ?? 600),
      '--startup-ms',
      String(options.startupMs ?? 0),
    ];
    const profile = resolveAgentProfile('claude', {
      providers: {
        claude: { start_command: command, poll_ms: 50, settle_ms: 300, completion_marker: options.marker },
      },
    });
    return new TmuxAgent({ session: 'agent', profile, tmux });
  }

  it('starts the agent and tells when it is idle', async () => {
    const agent = fakeAgent({ startupMs: 800 });
    await agent.start();
    expect(await agent.isRunning()).toBe(true);
    expect(await agent.state()).toBe('unknown');
    await agent.waitUntilIdle({ timeoutMs: 10_000 });
    expect(await agent.state()).toBe('idle');
    await expectBatonError(agent.start(), 'E_INVALID_STATE', /already exists/);
    await expectBatonError(agent.waitForOutcome(), 'E_INVALID_STATE', /deliver\(\) one first/);
  });

  it('delivers a one-line prompt, sees the agent busy, and completes with its answer', async () => {
    const agent = fakeAgent();
    await agent.start();
    await agent.deliver('hello agent', { timeoutMs: 10_000 });
    expect(await agent.state()).toBe('busy');
    const outcome = await agent.waitForOutcome({ timeoutMs: 10_000 });
    expect(outcome).toEqual({
      outcome: 'completed',
      output: '⏺ Done. Received 1 line(s):\n  1: hello agent',
    });
    expect(await agent.state()).toBe('idle');
    // The next prompt's answer does not include the previous one.
    await agent.deliver('second task');
    expect(await agent.waitForOutcome({ timeoutMs: 10_000 })).toEqual({
      outcome: 'completed',
      output: '⏺ Done. Received 1 line(s):\n  1: second task',
    });
  });

  it('pastes a multi-line prompt so that it arrives whole, as one prompt', async () => {
    const agent = fakeAgent();
    await agent.start();
    await agent.deliver('first line\n  indented second line\r\nthird line\n', { timeoutMs: 10_000 });
    const outcome = await agent.waitForOutcome({ timeoutMs: 10_000 });
    expect(outcome).toEqual({
      outcome: 'completed',
      output: '⏺ Done. Received 3 line(s):\n  1: first line\n  2:   indented second line\n  3: third line',
    });
    const pane = await agent.tmux.capture(agent.session, 'history');
    expect(pane.match(/Done\. Received/g)).toHaveLength(1);
  });

  it('reports an approval prompt, never counts it idle, and completes once it is answered', async () => {
    const agent = fakeAgent();
    await agent.start();
    await agent.deliver('clean up NEEDS_APPROVAL', { timeoutMs: 10_000 });
    const asked = await agent.waitForOutcome({ timeoutMs: 10_000 });
    expect(asked.outcome).toBe('waiting_input');
    expect(asked.outcome === 'waiting_input' && asked.screen).toMatch(
      /Do you want to proceed\?[\s│]*\n.*❯ 1\. Yes/,
    );
    // Longer than settle_ms: still waiting, never idle, and reported again while unanswered.
    for (let i = 0; i < 4; i++) expect(await agent.state()).toBe('waiting_input');
    expect((await agent.waitForOutcome({ timeoutMs: 100 })).outcome).toBe('waiting_input');
    await expectBatonError(
      agent.deliver('more work', { timeoutMs: 2_000 }),
      'E_INVALID_STATE',
      /waiting for an answer/,
    );
    await agent.respond('1');
    const done = await agent.waitForOutcome({ timeoutMs: 10_000 });
    expect(done).toEqual({
      outcome: 'completed',
      output: [
        '⏺ Bash(touch approved.txt)',
        '  ⎿  Approved: ran touch approved.txt',
        '⏺ Done. Received 1 line(s):',
        '  1: clean up NEEDS_APPROVAL',
      ].join('\n'),
    });
  });

  it('times out while the agent works, keeps the prompt, and completes later; a signal cancels', async () => {
    const agent = fakeAgent();
    await agent.start();
    await agent.deliver('BUSY_MS=2500 slow task', { timeoutMs: 10_000 });
    expect(await agent.waitForOutcome({ timeoutMs: 300 })).toEqual({ outcome: 'timeout' });
    await expectBatonError(agent.waitForOutcome({ signal: AbortSignal.timeout(200) }), 'E_CANCELLED');
    const outcome = await agent.waitForOutcome({ timeoutMs: 10_000 });
    expect(outcome).toEqual({
      outcome: 'completed',
      output: '⏺ Done. Received 1 line(s):\n  1: BUSY_MS=2500 slow task',
    });
  });

  it('completes on the completion marker while the agent still looks busy', async () => {
    const agent = fakeAgent({ marker: 'TASK_COMPLETE$' });
    await agent.start();
    // The echo of the prompt holds the marker too; only what follows the prompt counts.
    await agent.deliver('STAY_BUSY then say TASK_COMPLETE', { timeoutMs: 10_000 });
    const outcome = await agent.waitForOutcome({ timeoutMs: 10_000 });
    expect(outcome).toEqual({
      outcome: 'completed',
      output: '⏺ Done. Received 1 line(s):\n  1: STAY_BUSY then say TASK_COMPLETE',
    });
    expect(await agent.state()).toBe('busy');
  });

  it('says clearly when the agent has exited and its session is gone', async () => {
    const agent = fakeAgent();
    await agent.start();
    await agent.deliver('/exit', { timeoutMs: 10_000 });
    await expectBatonError(
      agent.waitForOutcome({ timeoutMs: 10_000 }),
      'E_NOT_FOUND',
      /session 'agent' does not exist/,
    );
    expect(await agent.isRunning()).toBe(false);
    await expectBatonError(agent.state(), 'E_NOT_FOUND');
    await agent.stop();
  });

  it('refuses an empty prompt and control characters before touching the session', async () => {
    const agent = fakeAgent();
    await expectBatonError(agent.deliver(' \n '), 'E_INPUT_INVALID');
    await expectBatonError(agent.deliver('stop\u001b[A'), 'E_INPUT_INVALID', /control characters/);
  });
});
