// Embedded mode with many processes: while `baton worker` holds .baton/, the other `baton`
// commands run through it (docs/decisions/0012). The real binary, real processes, real PGlite.
import { describe, it, expect, beforeAll, afterEach } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baton, BIN } from './run-baton.js';

const GREET = fileURLToPath(new URL('./fixtures/greet-jobs.ts', import.meta.url));
const ORDER = fileURLToPath(new URL('./fixtures/order-workflow.ts', import.meta.url));
const FRAGILE = fileURLToPath(new URL('./fixtures/fragile-jobs.ts', import.meta.url));

async function ok(args: string[]): Promise<string> {
  const r = await baton(args);
  expect(r.code, `${args.join(' ')}\n${r.stderr}`).toBe(0);
  return r.stdout;
}

interface Holder {
  child: ChildProcess;
  exited: Promise<number | null>;
}

const holders: Holder[] = [];

/** Starts `baton worker` on the modules and resolves once it runs. */
function startWorker(args: string[]): Promise<Holder> {
  const child = spawn(process.execPath, [BIN, 'worker', ...args], {
    env: { ...process.env, BATON_DATABASE_URL: '' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  const holder = { child, exited };
  holders.push(holder);
  return new Promise((resolve, reject) => {
    let err = '';
    child.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      if (err.includes('Ctrl-C to stop')) resolve(holder);
    });
    child.on('exit', (code) => reject(new Error(`baton worker exited with ${code}: ${err}`)));
  });
}

afterEach(async () => {
  for (const h of holders.splice(0)) {
    h.child.kill('SIGKILL');
    await h.exited;
  }
});

describe('embedded store shared by local processes', () => {
  let db: string;
  let g: string[];
  beforeAll(() => {
    db = join(mkdtempSync(join(tmpdir(), 'baton-shared-')), 'db');
    g = ['--data-dir', db];
  });

  it('runs enqueue and list from other processes through a running worker, all at once, losing nothing', async () => {
    await ok([...g, 'migrate']);
    await startWorker([GREET, ...g]);
    // The holder publishes where it serves, for this user only.
    expect(statSync(`${db}.serve`).mode & 0o077).toBe(0);
    const enqueuer = async (who: string) => {
      for (let i = 0; i < 8; i++) {
        const out = await ok([
          ...g,
          'enqueue',
          'greet',
          '--input',
          JSON.stringify({ name: `${who}-${i}` }),
          '--json',
        ]);
        expect(JSON.parse(out)).toMatchObject({ created: true });
      }
    };
    const lister = async () => {
      for (let i = 0; i < 5; i++)
        expect(Array.isArray(JSON.parse(await ok([...g, 'jobs', 'list', '--json'])))).toBe(true);
    };
    await Promise.all([enqueuer('a'), enqueuer('b'), lister()]);
    let done: { status: string; attempts: number; output: { hello: string } }[] = [];
    for (let i = 0; i < 100; i++) {
      done = JSON.parse(await ok([...g, 'jobs', 'list', '--name', 'greet', '--limit', '100', '--json']));
      if (done.length === 16 && done.every((e) => e.status === 'completed')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(done.map((e) => e.status)).toEqual(Array(16).fill('completed'));
    expect(done.every((e) => e.attempts === 1)).toBe(true);
    const names = done.map((e) => e.output.hello).sort();
    expect(names).toEqual(
      [
        ...Array.from({ length: 8 }, (_, i) => `a-${i}`),
        ...Array.from({ length: 8 }, (_, i) => `b-${i}`),
      ].sort(),
    );
  });

  it('starts, signals and shows workflows through the worker, and `migrate` goes through it too', async () => {
    await startWorker([ORDER, ...g]);
    expect(await ok([...g, 'migrate'])).toMatch(/up to date/);
    expect(
      await ok([...g, 'workflows', 'start', 'order', '--id', 'shared-1', '--input', '{"order":"S-1"}']),
    ).toMatch(/started order as shared-1/);
    await ok([...g, 'workflows', 'signal', 'shared-1', 'approve', '--payload', '{"by":"ops"}']);
    let shown = '';
    for (let i = 0; i < 100 && !/status: +completed/.test(shown); i++) {
      shown = await ok([...g, 'workflows', 'show', 'shared-1']);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(shown).toMatch(/status: +completed/);
    expect(shown).toMatch(/signal +approve +completed/);
    expect(await ok([...g, 'workflows', 'list'])).toMatch(/shared-1 +order/);
  });

  it('after the holder is killed, the next command opens the store itself, and a stale serve file is ignored', async () => {
    const h = await startWorker([GREET, ...g]);
    expect(existsSync(`${db}.serve`)).toBe(true);
    h.child.kill('SIGKILL');
    await h.exited;
    const out = await ok([...g, 'jobs', 'list', '--name', 'greet', '--json']);
    expect(JSON.parse(out).length).toBeGreaterThan(0);
    expect(existsSync(`${db}.lock`)).toBe(false);
    expect(existsSync(`${db}.serve`)).toBe(false);
  });

  it('a second worker on the same directory runs through the first, and a clean stop leaves the store free', async () => {
    const first = await startWorker([GREET, ...g]);
    const second = await startWorker([GREET, ...g, '--queues', 'second']);
    await ok([...g, 'enqueue', 'greet', '--queue', 'second', '--input', '{"name":"via-second"}']);
    let jobs: { status: string; queue: string; lease_owner?: string; output: unknown }[] = [];
    for (let i = 0; i < 100; i++) {
      jobs = JSON.parse(await ok([...g, 'jobs', 'list', '--queue', 'second', '--json']));
      if (jobs[0]?.status === 'completed') break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(jobs[0]).toMatchObject({ status: 'completed', output: { hello: 'via-second' } });
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
    first.child.kill('SIGTERM');
    expect(await first.exited).toBe(0);
    expect(existsSync(`${db}.lock`)).toBe(false);
    expect(existsSync(`${db}.serve`)).toBe(false);
  });

  it('lists dead letters and retries them in bulk by name; bad combinations get one clear line', async () => {
    await ok([...g, 'migrate']);
    await startWorker([FRAGILE, ...g]);
    const fixed = join(db, '..', 'fragile-fixed');
    for (const n of [1, 2, 3])
      await ok([...g, 'enqueue', 'fragile', '--input', JSON.stringify({ n, fixedWhen: fixed })]);
    let dead: { status: string; error: { message: string } }[] = [];
    for (let i = 0; i < 100 && dead.length < 3; i++) {
      dead = JSON.parse(await ok([...g, 'jobs', 'list', '--dead', '--name', 'fragile', '--json']));
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(dead.map((e) => e.error.message).sort()).toEqual([1, 2, 3].map((n) => `fragile ${n} is broken`));
    expect(await ok([...g, 'jobs', 'list', '--dead', '--name', 'fragile'])).toMatch(
      /fragile +default +failed/,
    );
    for (const [args, message] of [
      [['jobs', 'retry'], /say which/],
      [['jobs', 'retry', 'some-id', '--all-dead'], /not both/],
      [['jobs', 'retry', 'some-id', '--name', 'fragile'], /narrow --all-dead/],
      [['jobs', 'list', '--dead', '--status', 'failed'], /--dead or --status/],
    ] as const) {
      const r = await baton([...g, ...args]);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
    }
    writeFileSync(fixed, '');
    expect(await ok([...g, 'jobs', 'retry', '--all-dead', '--name', 'fragile'])).toMatch(
      /requeued 3 dead letters of 'fragile'/,
    );
    let done: { status: string; output: { fixed: number } }[] = [];
    for (let i = 0; i < 100; i++) {
      done = JSON.parse(await ok([...g, 'jobs', 'list', '--name', 'fragile', '--json']));
      if (done.every((e) => e.status === 'completed')) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(done.map((e) => e.output.fixed).sort()).toEqual([1, 2, 3]);
    expect(await ok([...g, 'jobs', 'list', '--dead', '--name', 'fragile'])).toMatch(/no dead letters/);
  });

  it('starts a workflow later and with a timeout from the command line, and refuses a negative delay', async () => {
    await startWorker([ORDER, ...g]);
    const later = JSON.parse(
      await ok([
        ...g,
        'workflows',
        'start',
        'order',
        '--input',
        '{"order":"L-1"}',
        '--delay',
        '1h',
        '--json',
      ]),
    ) as { id: string };
    const shown = await ok([...g, 'workflows', 'show', later.id]);
    expect(shown).toMatch(/status: +queued/);
    const timed = JSON.parse(
      await ok([
        ...g,
        'workflows',
        'start',
        'order',
        '--input',
        '{"order":"T-1"}',
        '--timeout',
        '300ms',
        '--json',
      ]),
    ) as { id: string };
    let detail = '';
    for (let i = 0; i < 100 && !/status: +failed/.test(detail); i++) {
      detail = await ok([...g, 'workflows', 'show', timed.id]);
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(detail).toMatch(/status: +failed/);
    expect(detail).toMatch(/timeout: +at 20\d\d-/);
    expect(detail).toMatch(/E_TIMEOUT|passed its timeout/);
    const bad = await baton([...g, 'workflows', 'start', 'order', '--delay', '-5s']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/--delay must not be negative/);
    const badAt = await baton([...g, 'workflows', 'start', 'order', '--run-at', 'tomorrow']);
    expect(badAt.stderr).toMatch(/--run-at 'tomorrow' is not an ISO 8601 time/);
  });
});
