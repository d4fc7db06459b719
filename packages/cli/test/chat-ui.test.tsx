// The chat screen's components with ink-testing-library, against a scripted controller: streaming
// (renders counted per token), finished entries in <Static>, tool calls collapsed with diffs, the
// approval prompt's four answers, modes, Ctrl+C, input history and multi-line entry, slash
// commands, and the plain layout of a narrow terminal.
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import type { Approval, ToolMode, TurnPart } from '@baton/ai';
import { App, type ChatController } from '../src/chat-ui/app.js';
import { Picker } from '../src/chat-ui/run.js';
import type { ApprovalChoice } from '../src/chat-ui/approval.js';
import { blocks } from '../src/chat-ui/markdown.js';
import { NO_USAGE, Transcript } from '../src/chat-ui/transcript.js';
import { resultSummary } from '../src/chat-ui/entries.js';
import { eventually } from '../../core/test/backends.js';

const ENTER = '\r';
const SHIFT_TAB = '\u001B[Z';
const CTRL_C = '\u0003';
const UP = '\u001B[A';
const DOWN = '\u001B[B';

/** A controller whose turns are scripted: `turn` gets the parts callback and settles the turn. */
class Scripted implements ChatController {
  readonly info = { provider: 'openai', model: 'gpt-4o', contextWindow: 128_000 };
  sent: { text: string; mode: ToolMode }[] = [];
  cancelled = 0;
  answers: { id: string; choice: ApprovalChoice }[] = [];
  pending: Approval[] = [];
  commands: string[] = [];
  private end: ((r: { stoppedBy: string }) => void) | undefined;
  emit: (p: TurnPart) => void = () => undefined;

  constructor(private readonly past: string[] = []) {}
  history = async () => ({ entries: [], usage: { ...NO_USAGE }, sent: this.past });
  send = (text: string, mode: ToolMode, onPart: (p: TurnPart) => void) => {
    this.sent.push({ text, mode });
    this.emit = onPart;
    return new Promise<{ stoppedBy: string }>((resolve) => (this.end = resolve));
  };
  finish(stoppedBy = 'answer') {
    this.end?.({ stoppedBy });
  }
  cancel = () => void this.cancelled++;
  approvals = async () => this.pending;
  answer = async (id: string, choice: ApprovalChoice) => {
    this.answers.push({ id, choice });
    this.pending = [];
  };
  command = async (name: string, args: string) => {
    this.commands.push(`${name} ${args}`.trim());
    if (name === 'nope') throw new Error('unknown command /nope; /help lists them');
    return [`did ${name}`];
  };
  budgetWarning = async () => null;
}

let unmount: (() => void) | undefined;
afterEach(() => unmount?.());

function screen(controller: ChatController, columns = 100) {
  let renders = 0;
  const r = render(<App controller={controller} columns={columns} onRender={() => renders++} />);
  unmount = r.unmount;
  const type = async (s: string) => {
    r.stdin.write(s);
    await new Promise((res) => setTimeout(res, 20));
  };
  return { ...r, type, renders: () => renders, frame: () => r.lastFrame() ?? '' };
}

const approval = (id: string): Approval =>
  ({
    id,
    executionId: 's',
    toolCallId: 'c1',
    tool: 'write_file',
    arguments: { path: 'a.txt', content: 'x' },
    rule: null,
    status: 'pending',
  }) as unknown as Approval;

describe('the chat screen', () => {
  it('streams a fast answer in far fewer renders than tokens, and keeps it once the turn ends', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type('hello');
    await s.type(ENTER);
    expect(c.sent).toEqual([{ text: 'hello', mode: 'default' }]);
    const before = s.renders();
    // 500 tokens as fast as they come: the screen draws once a frame, not once a token.
    for (let i = 0; i < 500; i++) c.emit({ type: 'text', delta: `w${i} ` });
    await eventually(async () => s.frame().includes('w499'), 5000, 'the last token on screen');
    const renders = s.renders() - before;
    expect(renders).toBeGreaterThan(0);
    expect(renders).toBeLessThan(50);
    c.emit({ type: 'step', inputTokens: 1200, outputTokens: 500, costUsd: 0.0123 });
    c.finish();
    await eventually(async () => /1\.2k in · 500 out/.test(s.frame()), 5000, 'the usage in the status line');
    expect(s.frame()).toMatch(/\$0\.0123/);
    expect(s.frame()).toMatch(/context 1%/);
    expect(s.frame()).toMatch(/> hello/);
    expect(s.frame()).toMatch(/w0 w1 w2/);
  });

  it('a token that comes alone is drawn without waiting for a frame', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type('hi');
    await s.type(ENTER);
    await new Promise((r) => setTimeout(r, 50));
    const before = s.renders();
    c.emit({ type: 'text', delta: 'lonely' });
    await eventually(async () => s.frame().includes('lonely'), 1000, 'the token');
    expect(s.renders() - before).toBeLessThanOrEqual(2);
  });

  it('collapses a tool call to one line with its outcome, and shows the diff of an edit', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type('edit it');
    await s.type(ENTER);
    c.emit({ type: 'tool-call', id: 't1', tool: 'edit_file', input: { path: 'src/a.ts' } });
    await eventually(async () => /… edit_file src\/a\.ts/.test(s.frame()), 2000, 'the running call');
    c.emit({
      type: 'tool-result',
      id: 't1',
      tool: 'edit_file',
      output: '--- a/src/a.ts\n+++ b/src/a.ts\n@@ -1 +1 @@\n-const a = 1;\n+const a = 2;',
      error: false,
    });
    c.emit({ type: 'tool-call', id: 't2', tool: 'run_command', input: { argv: ['npm', 'test'] } });
    c.emit({ type: 'tool-result', id: 't2', tool: 'run_command', output: 'exit 1\nFAIL x', error: true });
    c.finish();
    await eventually(
      async () => /✗ run_command npm test {2}exit 1 FAIL x/.test(s.frame()),
      2000,
      'the failed call',
    );
    expect(s.frame()).toMatch(/✓ edit_file src\/a\.ts {2}\+1 −1/);
    expect(s.frame()).toMatch(/-const a = 1;/);
    expect(s.frame()).toMatch(/\+const a = 2;/);
  });

  it('puts an approval with its four answers: a choice by key, or a deny with a reason', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type('write');
    await s.type(ENTER);
    c.pending = [approval('ap1')];
    await eventually(async () => /allow for this session/.test(s.frame()), 3000, 'the approval prompt');
    expect(s.frame()).toMatch(/write_file \{"path":"a.txt","content":"x"\}/);
    expect(s.frame()).toMatch(/1\. allow once/);
    expect(s.frame()).toMatch(/3\. always/);
    expect(s.frame()).toMatch(/4\. deny, with a reason/);
    // ink draws a component before it subscribes it to keys: a person never types that fast.
    await new Promise((r) => setTimeout(r, 100));
    await s.type('2');
    await eventually(async () => c.answers.length === 1, 3000, 'the answer');
    expect(c.answers).toEqual([{ id: 'ap1', choice: { approved: true, remember: 'session' } }]);
    await eventually(async () => !/allow once/.test(s.frame()), 3000, 'the prompt to close');

    c.pending = [approval('ap2')];
    await eventually(async () => /allow once/.test(s.frame()), 3000, 'the second prompt');
    await new Promise((r) => setTimeout(r, 100));
    // A fast typist: the reason follows 'n' in the same tick, before the reason prompt is drawn.
    s.stdin.write('n');
    s.stdin.write('not now');
    await eventually(
      async () => /reason \(the agent sees it\): not now/.test(s.frame()),
      3000,
      'the reason prompt with the typed reason',
    );
    await s.type(ENTER);
    await eventually(async () => c.answers.length === 2, 3000, 'the deny');
    expect(c.answers[1]).toEqual({ id: 'ap2', choice: { approved: false, reason: 'not now' } });
    await eventually(
      async () => !/reason \(the agent sees it\)/.test(s.frame()),
      3000,
      'the prompt to close',
    );

    // The whole answer in one chunk, as a paste or a fast typist sends it: the return ends it.
    c.pending = [approval('ap3')];
    await eventually(async () => /allow once/.test(s.frame()), 3000, 'the third prompt');
    await new Promise((r) => setTimeout(r, 100));
    s.stdin.write('n');
    s.stdin.write('too risky\r');
    await eventually(async () => c.answers.length === 3, 3000, 'the pasted deny');
    expect(c.answers[2]).toEqual({ id: 'ap3', choice: { approved: false, reason: 'too risky' } });
    c.finish();
  });

  it('Shift+Tab cycles the modes, and a message carries the mode it was sent in', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type(SHIFT_TAB);
    expect(s.frame()).toMatch(/plan \(read-only\)/);
    await s.type('look around');
    await s.type(ENTER);
    expect(c.sent[0]).toEqual({ text: 'look around', mode: 'plan' });
    c.finish();
    await s.type(SHIFT_TAB);
    expect(s.frame()).toMatch(/accept edits/);
    await s.type(SHIFT_TAB);
    expect(s.frame()).toMatch(/ask before edits/);
    // Two presses within one frame move two steps.
    s.stdin.write(SHIFT_TAB);
    s.stdin.write(SHIFT_TAB);
    await s.type('edit away');
    await s.type(ENTER);
    expect(c.sent[1]).toEqual({ text: 'edit away', mode: 'accept-edits' });
  });

  it('Ctrl+C cancels the turn under way; a second one exits', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type('long job');
    await s.type(ENTER);
    await s.type(CTRL_C);
    expect(c.cancelled).toBe(1);
    expect(s.frame()).toMatch(/cancelling the turn/);
    c.finish('cancelled');
    await eventually(async () => /\(turn cancelled\)/.test(s.frame()), 2000, 'the cancel note');
    await s.type(CTRL_C);
    // Within two seconds of the first: the screen is gone, and takes no more keys.
    await s.type('typed after exit');
    expect(s.frame()).not.toMatch(/typed after exit/);
    expect(c.cancelled).toBe(1);
  });

  it('queues a message typed while a turn runs, and sends it when the turn ends', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type('first');
    await s.type(ENTER);
    await s.type('second');
    await s.type(ENTER);
    expect(s.frame()).toMatch(/queued: sent when this turn ends/);
    expect(c.sent.map((m) => m.text)).toEqual(['first']);
    c.finish();
    await eventually(async () => c.sent.length === 2, 2000, 'the queued message');
    expect(c.sent.map((m) => m.text)).toEqual(['first', 'second']);
    c.finish();
  });

  it('a queued message goes in the mode it was typed in; session commands wait for the turn', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type('first');
    await s.type(ENTER);
    await s.type(SHIFT_TAB); // plan, while the first turn runs
    await s.type('second');
    await s.type(ENTER);
    await s.type('/compact');
    await s.type(ENTER);
    expect(s.frame()).toMatch(/\/compact waits until the turn ends/);
    expect(c.commands).toEqual([]);
    c.finish();
    await eventually(async () => c.sent.length === 2, 2000, 'the queued message');
    expect(c.sent).toEqual([
      { text: 'first', mode: 'default' },
      { text: 'second', mode: 'plan' },
    ]);
    c.finish();
  });

  it('walks earlier messages with Up, and a line ending in a backslash goes on to the next', async () => {
    const c = new Scripted(['first question']);
    const s = screen(c);
    await new Promise((r) => setTimeout(r, 50));
    await s.type(UP);
    expect(s.frame()).toMatch(/> first question/);
    await s.type(ENTER);
    c.finish();
    await new Promise((r) => setTimeout(r, 30));
    await s.type('line one\\');
    await s.type(ENTER);
    await s.type('line two');
    await s.type(ENTER);
    expect(c.sent.map((m) => m.text)).toEqual(['first question', 'line one\nline two']);
    c.finish();
  });

  it('answers /help and /cost itself, passes other commands on, and shows their errors', async () => {
    const c = new Scripted();
    const s = screen(c);
    await s.type('/help');
    await s.type(ENTER);
    expect(s.frame()).toMatch(/\/undo \[n\]/);
    expect(s.frame()).toMatch(/\/permissions/);
    await s.type('/cost');
    await s.type(ENTER);
    expect(s.frame()).toMatch(/this session: 0 tokens in, 0 out, \$0\.0000/);
    await s.type('/undo 2');
    await s.type(ENTER);
    await eventually(async () => /did undo/.test(s.frame()), 2000, 'the command output');
    await s.type('/nope');
    await s.type(ENTER);
    await eventually(async () => /unknown command \/nope/.test(s.frame()), 2000, 'the error');
    expect(c.commands).toEqual(['undo 2', 'nope']);
    expect(c.sent).toEqual([]);
  });

  it('lays out plainly under 40 columns: no frames, a short status line', async () => {
    const c = new Scripted();
    const s = screen(c, 30);
    await s.type('code?');
    await s.type(ENTER);
    c.emit({ type: 'text', delta: 'here:\n```ts\nconst x = 1;\n```\n' });
    c.finish();
    await eventually(async () => s.frame().includes('const x = 1;'), 2000, 'the answer');
    expect(s.frame()).not.toMatch(/[╭╮╰╯]/);
    expect(s.frame()).not.toMatch(/openai\/gpt-4o/);
    expect(s.frame()).toMatch(/\$0\.0000/);
  });
});

describe('the session picker (-r)', () => {
  it('shows each session on a line, moves with the arrows, and resumes the one chosen', async () => {
    let picked: string | null | undefined;
    const items = [
      { id: 's1', line: 'fix the login bug      5m ago  $0.0123  fix the login bug' },
      { id: 's2', line: 'add a test             2h ago  $0.0040  write tests for auth' },
    ];
    const r = render(<Picker items={items} onPick={(id) => (picked = id)} />);
    unmount = r.unmount;
    await new Promise((res) => setTimeout(res, 50));
    expect(r.lastFrame()).toMatch(/Resume which session\?/);
    expect(r.lastFrame()).toMatch(/fix the login bug {6}5m ago {2}\$0\.0123/);
    r.stdin.write(DOWN);
    await new Promise((res) => setTimeout(res, 20));
    r.stdin.write(ENTER);
    await eventually(async () => picked !== undefined, 2000, 'the pick');
    expect(picked).toBe('s2');
  });

  it('picks the row the arrows reached when Enter follows them before a redraw', async () => {
    let picked: string | null | undefined;
    const items = ['s1', 's2', 's3'].map((id) => ({ id, line: `session ${id}` }));
    const r = render(<Picker items={items} onPick={(id) => (picked = id)} />);
    unmount = r.unmount;
    await new Promise((res) => setTimeout(res, 50));
    r.stdin.write(DOWN);
    r.stdin.write(DOWN);
    r.stdin.write(ENTER);
    await eventually(async () => picked !== undefined, 2000, 'the pick');
    expect(picked).toBe('s3');
  });
});

describe('the transcript and its rendering', () => {
  it('moves entries to the finished list in order, as soon as they and those before them are final', () => {
    const t = new Transcript();
    t.add({ kind: 'user', text: 'go' });
    t.apply({ type: 'text', delta: 'Let me ' });
    t.apply({ type: 'text', delta: 'look.' });
    expect(t.live.map((e) => e.kind)).toEqual(['assistant']);
    t.apply({ type: 'tool-call', id: 'a', tool: 'read_file', input: { path: 'x' } });
    // The text before the call is final; the call is not.
    expect(t.done.map((e) => e.kind)).toEqual(['user', 'assistant']);
    expect(t.live.map((e) => e.kind)).toEqual(['tool']);
    t.apply({ type: 'tool-result', id: 'a', tool: 'read_file', output: '1\n2', error: false });
    expect(t.live).toEqual([]);
    t.apply({ type: 'text', delta: 'Done.' });
    t.endTurn();
    expect(t.done.map((e) => (e.kind === 'assistant' ? e.text : e.kind))).toEqual([
      'user',
      'Let me look.',
      'tool',
      'Done.',
    ]);
    t.apply({ type: 'step', inputTokens: 10, outputTokens: 2, costUsd: null });
    expect(t.usage).toMatchObject({ inputTokens: 10, outputTokens: 2, unpriced: true });
  });

  it('reads markdown blocks: fences (an open one runs to the end), headings, lists, quotes', () => {
    expect(blocks('# T\n- a\n  - b\n1. c\n> q\n\n```py\nx = 1\n```\ntext\n```\nopen')).toEqual([
      { kind: 'heading', text: 'T' },
      { kind: 'item', bullet: '•', text: 'a', depth: 0 },
      { kind: 'item', bullet: '•', text: 'b', depth: 1 },
      { kind: 'item', bullet: '1.', text: 'c', depth: 0 },
      { kind: 'quote', text: 'q' },
      { kind: 'blank' },
      { kind: 'code', lang: 'py', lines: ['x = 1'] },
      { kind: 'text', text: 'text' },
      { kind: 'code', lang: '', lines: ['open'] },
    ]);
  });

  it('summarises a result in one line', () => {
    expect(resultSummary('write_file', '--- a\n+++ b\n+x\n+y\n-z', false)).toBe('+2 −1');
    expect(resultSummary('read_file', 'a\nb\nc', false)).toBe('3 lines');
    expect(resultSummary('run_command', '\n\nexit 0\nok', false)).toBe('exit 0');
    expect(resultSummary('search', 'E_TOOL_FAILED: binary file', true)).toBe('E_TOOL_FAILED: binary file');
  });
});
