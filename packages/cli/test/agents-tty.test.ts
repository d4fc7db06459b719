// `baton agents run` at a terminal, in a real tmux: an ask shows a prompt with the call and the
// rule; answering "s" allows it for the session, so the same call later in the run is not asked.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../core/test/backends.js';
import { startLlmServer, type LoopbackServer } from '../../ai/test/llm-servers.js';
import { tmuxInstalled } from '../../flows/test/tmux-helpers.js';
import { BIN } from './run-baton.js';

const socket = `baton-agents-tty-${process.pid}`;
const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
const pane = () => tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', 'agent');

describe.skipIf(!tmuxInstalled())('baton agents run at a terminal (tmux)', () => {
  let server: LoopbackServer;
  let dir: string;

  beforeAll(async () => {
    server = await startLlmServer('openai', [
      { tool: { id: 'w1', name: 'write_file', args: { path: 'a.txt', content: 'one' } } },
      { tool: { id: 'w2', name: 'write_file', args: { path: 'a.txt', content: 'one' } } },
      { text: 'all written' },
    ]);
    dir = mkdtempSync(join(tmpdir(), 'baton-agents-tty-'));
    mkdirSync(join(dir, 'baton', 'base'), { recursive: true });
    mkdirSync(join(dir, 'project'));
    writeFileSync(
      join(dir, 'baton', 'base', 'llm_providers.yaml'),
      `failover_order: [openai]\nproviders:\n  openai:\n    model: gpt-4-turbo\n    api_key: k\n    endpoint: ${server.url}\n    max_retries: 0\n`,
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

  it('asks once, and a session answer covers the same call again', async () => {
    const command = [
      `BATON_DATABASE_URL= ${process.execPath} ${BIN} --data-dir ${join(dir, 'db')} --config-dir ${join(dir, 'baton')}`,
      `agents run coder --prompt 'write a.txt' --root ${join(dir, 'project')}; echo EXIT=$?; sleep 60`,
    ].join(' ');
    tmux('new-session', '-d', '-s', 'agent', '-x', '200', '-y', '50', command);
    await eventually(async () => /allow write_file/.test(pane()), 30_000, 'the approval prompt');
    expect(pane()).toMatch(/allow write_file \{"path":"a.txt","content":"one"\}\? \(no rule matches\)/);
    expect(pane()).toMatch(/\[y\] once {2}\[s\] this session {2}\[a\] always {2}\[n\] deny/);
    tmux('send-keys', '-t', 'agent', 's', 'Enter');
    await eventually(async () => /EXIT=\d+/.test(pane()), 30_000, 'the run to end');
    const text = pane();
    expect(text).toMatch(/all written/);
    expect(text).toMatch(/EXIT=0/);
    expect(text.match(/allow write_file/g)).toHaveLength(1);
    expect(readFileSync(join(dir, 'project', 'a.txt'), 'utf8')).toBe('one');
  });
});
