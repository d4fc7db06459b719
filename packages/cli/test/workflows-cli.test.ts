// `baton workflows …`, `baton dev` and `baton worker` with workflows: the real binary on embedded
// PGlite. One process opens the data directory at a time, so the steps run in order.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baton } from './run-baton.js';

const ORDER = fileURLToPath(new URL('./fixtures/order-workflow.ts', import.meta.url));
const GREET = fileURLToPath(new URL('./fixtures/greet-jobs.ts', import.meta.url));

/** Runs a command that must fail, and returns its one line of error. */
async function fails(args: string[]): Promise<string> {
  const r = await baton(args);
  expect(r.code, args.join(' ')).not.toBe(0);
  const lines = r.stderr.trim().split('\n');
  expect(lines, `${args.join(' ')}\n${r.stderr}`).toHaveLength(1);
  expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
  return lines[0];
}

describe('baton workflows (embedded PGlite)', () => {
  let dir: string;
  let g: string[];
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-wf-cli-'));
    g = ['--data-dir', join(dir, 'db')];
  });

  it('has --help on every workflows command', async () => {
    const cmds = [[], ['start'], ['signal'], ['cancel'], ['list'], ['show']];
    const results = await Promise.all(cmds.map((c) => baton(['workflows', ...c, '--help'])));
    results.forEach((r, i) => {
      expect(r.code, cmds[i].join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: baton workflows/);
    });
    expect(results[1].stdout).toMatch(/--module <path\.\.\.>/);
  });

  it('refuses bad starts before touching the store', async () => {
    const [unknown, job, json, status] = await Promise.all([
      fails([...g, 'workflows', 'start', 'ordr', '-m', ORDER, '--input', '{}']),
      fails([...g, 'workflows', 'start', 'greet', '-m', GREET, ORDER]),
      fails([...g, 'workflows', 'start', 'order', '-m', ORDER, '--input', '{nope']),
      fails([...g, 'workflows', 'list', '--status', 'sleeping']),
    ]);
    expect(unknown).toMatch(
      /E_UNKNOWN_WORKFLOW.*no workflow named 'ordr'.*did you mean 'order'\?.*Workflows there: order/,
    );
    expect(job).toMatch(/E_UNKNOWN_WORKFLOW.*'greet' is a job, not a workflow.*baton enqueue greet/);
    expect(json).toMatch(/E_NOT_JSON.*--input is not valid JSON/);
    expect(status).toMatch(/E_INVALID_OPTION.*--status 'sleeping'/);
  });

  it('starts, waits for a signal, shows the timeline, lists, cancels, and resumes on the signal', async () => {
    // dev migrates, runs a worker on a module that exports only a workflow, and its demo starts dev-1.
    const dev = await baton([...g, 'dev', ORDER]);
    expect(dev.stderr).toBe('');
    expect(dev.code).toBe(0);
    expect(dev.stdout).toMatch(/worker: workflows: order/);
    expect(dev.stdout).toMatch(/demo started dev-1\ndemo idle/);

    // By name (the worker of `baton dev` registered it), then again from the module's definition.
    const start = await baton([
      ...g,
      'workflows',
      'start',
      'order',
      '--id',
      'o-2',
      '--input',
      '{"order":"B-2"}',
    ]);
    expect(start.stdout.trim()).toBe('started order as o-2');
    const same = await baton([...g, 'workflows', 'start', 'order', '-m', ORDER, '--id', 'o-2', '--json']);
    expect(JSON.parse(same.stdout)).toEqual({ id: 'o-2', created: false });
    expect(await fails([...g, 'workflows', 'start', 'ordr'])).toMatch(
      /E_UNKNOWN_WORKFLOW.*no workflow named 'ordr'.*did you mean 'order'\?/,
    );

    const waiting = await baton([...g, 'workflows', 'show', 'dev-1']);
    expect(waiting.code).toBe(0);
    expect(waiting.stdout).toMatch(
      /status:\s+waiting for signal 'approve' \(timeout (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\)\n/,
    );
    const lines = waiting.stdout.split('\n');
    const at = lines.findIndex((l) =>
      /TIME \(UTC\)\s+KIND\s+NAME\s+STATUS\s+ATTEMPTS\s+INPUT\s+DETAIL/.test(l),
    );
    expect(at).toBeGreaterThan(0);
    expect(lines.slice(at + 1).filter(Boolean)).toEqual([
      expect.stringMatching(/^ {2}\d\d:\d\d:\d\d\.\d{3}\s+workflow\s+order\s+started\s+\{"order":"A-1"\}$/),
      expect.stringMatching(
        /^ {2}\d\d:\d\d:\d\d\.\d{3}\s+step\s+charge\s+completed\s+1\s+\{"order":"A-1"\}\s+\{"charged":"A-1"\}$/,
      ),
      expect.stringMatching(
        /^ {2}\d\d:\d\d:\d\d\.\d{3}\s+signal\s+approve\s+waiting\s+waiting for signal 'approve' \(timeout (\d{4}-\d\d-\d\d )?\d\d:\d\d:\d\d\)$/,
      ),
    ]);

    const list = await baton([...g, 'workflows', 'list', '--json']);
    const rows = JSON.parse(list.stdout) as { id: string; status: string; kind: string }[];
    expect(rows.map((r) => [r.id, r.status, r.kind])).toEqual([
      ['o-2', 'queued', 'workflow'],
      ['dev-1', 'waiting', 'workflow'],
    ]);

    // Signals are buffered: this one waits in the database until a worker resumes dev-1.
    const sendApproval = [
      ...g,
      'workflows',
      'signal',
      'dev-1',
      'approve',
      '--payload',
      '{"by":"ada"}',
      '--idempotency-key',
      'approval-1',
    ];
    const signal = await baton(sendApproval);
    expect(signal.stdout.trim()).toBe("sent signal 'approve' to dev-1");
    expect((await baton([...g, 'workflows', 'cancel', 'o-2'])).stdout.trim()).toBe('cancelled o-2');

    const again = await baton([...g, 'dev', ORDER]);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/dev-1 exists\ndemo idle/);

    const done = await baton([...g, 'workflows', 'show', 'dev-1']);
    expect(done.stdout).toMatch(/status:\s+completed\n/);
    expect(done.stdout).toMatch(/output:\s+\{"charged":"A-1","approvedBy":"ada"\}/);
    expect(done.stdout).toMatch(
      /signal\s+approve\s+completed\s+received after \d+(\.\d)? m?s: \{"by":"ada"\}/,
    );
    expect(done.stdout).toMatch(/sleep\s+sleep\s+completed\s+slept until \d\d:\d\d:\d\d/);
    expect(done.stdout).toMatch(/step\s+ship\s+completed\s+1\s+\{"shipped":"A-1"\}/);
    expect(done.stdout).toMatch(
      /workflow\s+order\s+completed\s+output \{"charged":"A-1","approvedBy":"ada"\}/,
    );

    const text = await baton([...g, 'workflows', 'list', '--status', 'cancelled']);
    expect(text.stdout).toMatch(/^ID\s+WORKFLOW\s+QUEUE\s+STATUS/);
    expect(text.stdout).toMatch(/o-2\s+order\s+orders\s+cancelled/);
    expect(text.stdout).not.toMatch(/dev-1/);

    // Repeating a keyed send is harmless, even after the workflow finished.
    const repeated = await baton(sendApproval);
    expect(repeated.code).toBe(0);

    // The errors that need the store.
    expect(await fails([...g, 'workflows', 'signal', 'dev-1', 'approve'])).toMatch(
      /E_INVALID_STATE.*workflow dev-1 is already completed/,
    );
    expect(await fails([...g, 'workflows', 'signal', 'missing-id', 'approve'])).toMatch(
      /E_NOT_FOUND.*no execution with id 'missing-id'/,
    );
  });

  it('refuses a worker on a module without jobs or workflows', async () => {
    const empty = join(dir, 'empty.mts');
    writeFileSync(empty, 'export const answer = 42;\n');
    expect(await fails([...g, 'worker', empty])).toMatch(
      /E_CONFIG_INVALID.*no jobs or workflows found.*defineJob\(\) or defineWorkflow\(\)/,
    );
  });
});
