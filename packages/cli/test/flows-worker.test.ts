// `baton flows worker` and the commands that act on its runs, as real processes on PostgreSQL: it
// follows edits of workflows.yaml without a restart (a workflow or a schedule trigger an edit adds is
// served at once; a broken edit is refused and the worker goes on with the last good file), and
// `flows list`, `approve`, `emit` and `rerun --from` work against the runs it serves.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { eventually, freshDatabase } from '../../core/test/backends.js';
import { BIN, baton } from './run-baton.js';

const PG = process.env.BATON_PG_URL;

const FIRST = `workflows:
  first:
    steps:
      - { id: hello, type: set, vars: { said: 'hello \${input.who}' } }
`;

const ADDED = `  second:
    input: { n: integer }
    steps:
      - { id: double, type: set, vars: { twice: '\${input.n * 2}' } }
  ticker:
    trigger: { type: schedule, cron: '* * * * * *' }
    steps:
      - { id: tick, type: set, vars: { ticked: true } }
`;

const COMMANDS = `workflows:
  gated:
    description: Doubles, then waits for ada
    input: { n: integer }
    steps:
      - { id: double, type: set, vars: { twice: '\${input.n * 2}' } }
      - id: gate
        type: wait
        approval: { prompt: 'Go with \${input.n}?', approvers: [ada] }
        timeout: 1h
      - { id: done, type: set, vars: { by: '\${steps.gate.by}' } }
  on_order:
    trigger: { type: event, event: order.placed, filter: 'data.total > 100' }
    input: { total: number }
    steps:
      - { id: seen, type: set, vars: { total: '\${input.total}' } }
`;

describe.skipIf(!PG)('baton flows worker and its commands (PostgreSQL, real processes)', () => {
  let url = '';
  let dir = '';
  let db: pg.Client | undefined;
  let worker: ChildProcess | undefined;
  let output = '';
  const dirs: string[] = [];
  const env = () => ({ BATON_DATABASE_URL: url, BATON_CONFIG_DIR: dir, BATON_LOG_LEVEL: 'warn' });
  const file = () => join(dir, 'base', 'workflows.yaml');

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await db?.end();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  /** `baton flows …args`, which must succeed; its stdout, trimmed. */
  async function flows(...args: string[]): Promise<string> {
    const r = await baton(['flows', ...args], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim();
  }

  /** Waits until run `id` has `status`; its output. */
  async function until(id: string, status: string): Promise<Record<string, unknown>> {
    let out: Record<string, unknown> | undefined;
    await eventually(
      async () => {
        const { rows } = await db!.query<{ status: string; output: Record<string, unknown> | null }>(
          'SELECT status, output FROM baton.executions WHERE id = $1',
          [id],
        );
        out = rows[0]?.status === status ? (rows[0].output ?? {}) : undefined;
        return out !== undefined;
      },
      20_000,
      `run ${id} to be ${status}; the worker said: ${output}`,
    );
    return out!;
  }

  /** Starts a run with `baton flows run --detach` and waits until it completes; its output. */
  async function runToEnd(name: string, input: unknown): Promise<Record<string, unknown>> {
    return until(await flows('run', name, '--detach', '--input', JSON.stringify(input)), 'completed');
  }

  /** A `baton flows worker` on a fresh database and a configuration directory holding `yaml`. */
  async function startWorker(yaml: string): Promise<void> {
    worker?.kill('SIGKILL');
    await db?.end();
    output = '';
    url = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'baton-flows-worker-'));
    dirs.push(dir);
    mkdirSync(join(dir, 'base'));
    writeFileSync(file(), yaml);
    db = new pg.Client({ connectionString: url });
    await db.connect();
    expect((await baton(['migrate'], { env: env() })).code).toBe(0);
    const child = spawn(process.execPath, [BIN, 'flows', 'worker'], {
      env: { ...process.env, ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    worker = child;
    await eventually(async () => /serving \d+ YAML workflows/.test(output), 20_000, 'the worker to start');
  }

  it('serves workflows and schedule triggers an edit adds, and keeps serving after a broken edit', async () => {
    await startWorker(FIRST);
    expect(output).toMatch(/serving 1 YAML workflows/);
    expect((await runToEnd('first', { who: 'ada' })).vars).toEqual({ said: 'hello ada' });

    writeFileSync(file(), FIRST + ADDED);
    await eventually(
      async () => /configuration reloaded: serving 3 YAML workflows/.test(output),
      10_000,
      `the worker to reload; it said: ${output}`,
    );
    expect((await runToEnd('second', { n: 21 })).vars).toEqual({ twice: 42 });
    // The schedule trigger the edit added fires, and its run completes.
    await eventually(
      async () =>
        (
          await db!.query(
            `SELECT 1 FROM baton.executions WHERE kind = 'workflow' AND name = 'ticker' AND status = 'completed'`,
          )
        ).rowCount! > 0,
      15_000,
      `a run of the schedule trigger added by the edit; the worker said: ${output}`,
    );

    // A broken edit is refused; the worker keeps the last good configuration.
    writeFileSync(file(), FIRST + ADDED + '  third:\n    steps: [ { id: x, type: nope } ]\n');
    await eventually(
      async () => /configuration change rejected/.test(output),
      10_000,
      `the edit to be rejected; the worker said: ${output}`,
    );
    // It still watches: the mended edit is served.
    writeFileSync(file(), FIRST + ADDED + '  third:\n    steps: [ { id: x, type: set, vars: { y: 3 } } ]\n');
    await eventually(
      async () => /configuration reloaded: serving 4 YAML workflows/.test(output),
      10_000,
      `the worker to reload; it said: ${output}`,
    );
    expect((await runToEnd('third', {})).vars).toEqual({ y: 3 });

    const child = worker!;
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.on('exit', (c) => r(c)));
    expect(code, output).toBe(0);
  });

  it('lists, approves, emits and reruns from a step against the runs the worker serves', async () => {
    await startWorker(COMMANDS);
    const listed = JSON.parse(await flows('list', '--json')) as Record<string, unknown>[];
    expect(listed).toEqual([
      { name: 'gated', trigger: 'manual', steps: 3, description: 'Doubles, then waits for ada' },
      { name: 'on_order', trigger: 'event', steps: 1, description: '' },
    ]);

    const id = await flows('run', 'gated', '--detach', '--input', '{"n":21}');
    await until(id, 'waiting');
    // Someone who is not an approver: the answer is taken and ignored; the run still waits.
    await flows('approve', id, 'gate', '--by', 'bob');
    await new Promise((r) => setTimeout(r, 300));
    await until(id, 'waiting');
    await flows('approve', id, 'gate', '--by', 'ada', '--reason', 'fine');
    expect((await until(id, 'completed')).vars).toEqual({ twice: 42, by: 'ada' });

    // A rerun from `done` replays the approval ada gave instead of waiting for another.
    const rerun = await baton(['flows', 'rerun', id, '--from', 'done', '--detach'], { env: env() });
    expect(rerun.code, rerun.stderr).toBe(0);
    expect(rerun.stderr).toMatch(/reruns \S+ from done .*recorded operations reused/);
    expect((await until(rerun.stdout.trim(), 'completed')).vars).toEqual({ twice: 42, by: 'ada' });

    // An event the filter refuses starts nothing; one it takes starts the workflow with the data.
    const none = await baton(['flows', 'emit', 'order.placed', '--data', '{"total":50}'], { env: env() });
    expect(none.code).toBe(0);
    expect(none.stderr).toMatch(/no workflow's trigger matched event 'order.placed'/);
    const [runId, name] = (await flows('emit', 'order.placed', '--data', '{"total":150}')).split(/\s+/);
    expect(name).toBe('on_order');
    expect((await until(runId!, 'completed')).vars).toEqual({ total: 150 });
  });
});
