// `baton flows worker` follows edits of workflows.yaml without a restart: a workflow, a schedule
// trigger added by an edit are served at once; a broken edit is refused and the worker goes on with
// the last good file. Real processes on PostgreSQL.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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

describe.skipIf(!PG)('baton flows worker and configuration edits (PostgreSQL, real processes)', () => {
  let url = '';
  let dir = '';
  let db: pg.Client;
  let worker: ChildProcess | undefined;
  let output = '';
  const env = () => ({ BATON_DATABASE_URL: url, BATON_CONFIG_DIR: dir, BATON_LOG_LEVEL: 'warn' });
  const file = () => join(dir, 'base', 'workflows.yaml');

  /** Starts a run with `baton flows run --detach` and waits until it completes; its output. */
  async function runToEnd(name: string, input: unknown): Promise<Record<string, unknown>> {
    const r = await baton(['flows', 'run', name, '--detach', '--input', JSON.stringify(input)], {
      env: env(),
    });
    expect(r.code, r.stderr).toBe(0);
    const id = r.stdout.trim();
    let out: Record<string, unknown> | undefined;
    await eventually(
      async () => {
        const { rows } = await db.query<{ status: string; output: Record<string, unknown> }>(
          'SELECT status, output FROM baton.executions WHERE id = $1',
          [id],
        );
        out = rows[0]?.status === 'completed' ? rows[0].output : undefined;
        return out !== undefined;
      },
      20_000,
      `run ${id} of ${name} to complete; worker said: ${output}`,
    );
    return out!;
  }

  beforeAll(async () => {
    url = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'baton-flows-reload-'));
    mkdirSync(join(dir, 'base'));
    writeFileSync(file(), FIRST);
    db = new pg.Client({ connectionString: url });
    await db.connect();
    expect((await baton(['migrate'], { env: env() })).code).toBe(0);
  });

  afterAll(async () => {
    worker?.kill('SIGKILL');
    await db?.end();
    rmSync(dir, { recursive: true, force: true });
  });

  it('serves workflows and schedule triggers an edit adds, and keeps serving after a broken edit', async () => {
    worker = spawn(process.execPath, [BIN, 'flows', 'worker'], {
      env: { ...process.env, ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    worker.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    worker.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    await eventually(async () => /serving 1 YAML workflows/.test(output), 20_000, 'the worker to start');
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
          await db.query(
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

    worker.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => worker!.on('exit', (c) => r(c)));
    expect(code, output).toBe(0);
  });
});
