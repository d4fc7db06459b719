// The Architect's command adapter under its execution policy: a task's working directory must be
// inside the roots, the command sees only the allowed environment plus the task's own variables.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { executionPolicy } from '@baton/core';
import { commandExecutor, type TaskView } from '../src/index.js';

function task(metadata: Partial<TaskView['metadata']>): TaskView {
  return {
    id: 't1',
    type: 'bug_fix',
    prompt: 'fix it',
    port: null,
    metadata: { env: {}, ...metadata },
  } as unknown as TaskView;
}

describe('commandExecutor under a policy', () => {
  const root = mkdtempSync(join(tmpdir(), 'baton-cmd-root-'));
  const outside = mkdtempSync(join(tmpdir(), 'baton-cmd-out-'));
  const script = `process.stdout.write(JSON.stringify({ cwd: process.cwd(), secret: process.env.BATON_TEST_TOKEN ?? null, note: process.env.NOTE ?? null, task: JSON.parse(process.env.BATON_TASK).id }))`;
  const exec = commandExecutor([process.execPath, '-e', script], { cwd: root });

  it('runs in the task working directory inside the roots, without this process secrets, with the task variables', async () => {
    process.env.BATON_TEST_TOKEN = 'sk-should-not-leak';
    const out = await exec.run(task({ working_dir: root, env: { NOTE: 'from the task' } }), () => {});
    expect(out.ok).toBe(true);
    const seen = JSON.parse((out as { output: string }).output) as Record<string, string | null>;
    expect(seen).toMatchObject({ secret: null, note: 'from the task', task: 't1' });
    expect(seen.cwd).toMatch(/baton-cmd-root-/);
  });

  it('fails a task whose working directory is outside the roots, or that sets a forbidden variable, without running it', async () => {
    const away = await exec.run(task({ working_dir: outside }), () => {});
    expect(away).toEqual({
      ok: false,
      error: expect.stringMatching(
        /^E_POLICY_DENIED: .*baton-cmd-out-.* is outside the directories this run may use/,
      ),
    });
    const preload = await exec.run(task({ env: { LD_PRELOAD: '/tmp/evil.so' } }), () => {});
    expect(preload).toEqual({
      ok: false,
      error: expect.stringMatching(/^E_POLICY_DENIED: the environment variable LD_PRELOAD may not be set/),
    });
  });

  it('stops a command at the policy timeout and says so', async () => {
    const slow = commandExecutor(['sleep', '30'], {
      cwd: root,
      policy: executionPolicy({ roots: [root], timeoutMs: 200 }),
    });
    expect(await slow.run(task({}), () => {})).toEqual({
      ok: false,
      error: "stopped after the policy's 200 ms",
    });
  });
});
