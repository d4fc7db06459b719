// The real `baton` binary, as a user runs it.
import { describe, it, expect, beforeAll } from 'vitest';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baton } from './run-baton.js';

describe('baton CLI (embedded PGlite)', () => {
  let dir: string;
  let g: string[];
  let module: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-cli-'));
    g = ['--data-dir', join(dir, 'db')];
    module = fileURLToPath(new URL('./fixtures/greet-jobs.ts', import.meta.url));
  });

  it('has --help on every command', async () => {
    for (const cmd of [
      [],
      ['migrate'],
      ['worker'],
      ['enqueue'],
      ['jobs'],
      ['jobs', 'list'],
      ['jobs', 'show'],
      ['jobs', 'cancel'],
      ['jobs', 'retry'],
      ['dev'],
    ]) {
      const r = await baton([...cmd, '--help']);
      expect(r.code, cmd.join(' ')).toBe(0);
      expect(r.stdout).toMatch(/Usage: baton/);
    }
  });

  it('migrates, runs a module in dev, and shows the job', async () => {
    expect((await baton([...g, 'migrate'])).stdout).toMatch(/applied migrations 1/);
    expect((await baton([...g, 'migrate'])).stdout).toMatch(/up to date/);
    const dev = await baton([...g, 'dev', module]);
    expect(dev.code).toBe(0);
    expect(dev.stdout).toMatch(/demo enqueued/);
    expect(dev.stdout).toMatch(/greet\s+default\s+completed\s+1\/3/);
    expect(dev.stdout).toMatch(/\{"hello":"Ada"\}/);

    const list = await baton([...g, 'jobs', 'list', '--json']);
    const rows = JSON.parse(list.stdout) as { id: string; status: string }[];
    expect(rows).toHaveLength(1);
    const show = await baton([...g, 'jobs', 'show', rows[0].id]);
    expect(show.stdout).toMatch(/status:\s+completed/);
    expect(show.stdout).toMatch(/timeline:/);
  });

  it('enqueues by name, cancels and retries', async () => {
    const r = await baton([
      ...g,
      'enqueue',
      'greet',
      '--input',
      '{"name":"Grace"}',
      '--delay',
      '1h',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const { id } = JSON.parse(r.stdout) as { id: string };
    expect((await baton([...g, 'jobs', 'cancel', id])).stdout).toMatch(/cancelled/);
    expect((await baton([...g, 'jobs', 'list', '--status', 'cancelled'])).stdout).toContain(id);
    expect((await baton([...g, 'jobs', 'retry', id])).stdout).toMatch(/requeued/);
    expect((await baton([...g, 'jobs', 'show', id, '--json'])).stdout).toMatch(/"status": "queued"/);
  });

  it('prints one clear line and exits non-zero on errors', async () => {
    const cases: [string[], RegExp][] = [
      [['enqueue', 'gret', '--input', '{}'], /E_UNKNOWN_JOB.*did you mean 'greet'/],
      [['enqueue', 'greet', '--input', '{nope'], /E_NOT_JSON.*--input is not valid JSON/],
      [['enqueue', 'greet', '--delay', '-1s'], /E_INVALID_OPTION.*must not be negative/],
      [['jobs', 'show', 'missing-id'], /E_NOT_FOUND.*no execution with id 'missing-id'/],
      [['jobs', 'list', '--status', 'sleeping'], /E_INVALID_OPTION.*--status 'sleeping'/],
      [['worker', join(dir, 'nope.ts')], /E_CONFIG_INVALID.*does not exist/],
      [['--database', 'postgres://u:pw@:x/db', 'migrate'], /E_DATABASE_URL.*malformed/],
      [['--data-dir', join(dir, 'never-migrated'), 'jobs', 'list'], /schema version 0.*run `baton migrate`/],
    ];
    for (const [args, message] of cases) {
      const r = await baton([...g, ...args]);
      expect(r.code, args.join(' ')).not.toBe(0);
      const lines = r.stderr.trim().split('\n');
      expect(lines, args.join(' ')).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/at .*\.js:\d+/);
    }
    const verbose = await baton([...g, '--verbose', 'jobs', 'show', 'missing-id']);
    expect(verbose.stderr).toMatch(/at .*:\d+/);
  });

  it('runs @baton/ta as `baton ta`', async () => {
    const csv = join(dir, 'bars.csv');
    writeFileSync(
      csv,
      'timestamp,open,high,low,close,volume\n1,1,2,0.5,1.5,100\n2,1.5,2.5,1,2,120\n3,2,3,1.5,2.5,130\n',
    );
    const r = await baton(['ta', 'eval', 'sma(close, 2)', '--csv', csv, '--format', 'json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ columns: { 'sma(close, 2)': [null, 1.75, 2.25] } });
    const bad = await baton(['ta', 'eval', 'smaa(close, 2)', '--csv', csv]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/unknown function 'smaa' at 1:1 — did you mean 'sma'\?/);
    const list = await baton(['ta', 'list', '--json']);
    expect(list.stdout).toMatch(/"id": ?"rsi"/);
  });

  it('refuses an unknown command with usage help', async () => {
    const r = await baton(['frobnicate']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/unknown command 'frobnicate'/);
  });
});
