// Crash tests of the Architect on PostgreSQL with separate processes: `baton architect` control planes
// and `baton session run` command sessions are SIGKILLed while tasks are being assigned, waited on
// and done. Afterwards every task completed exactly once in the record, no task was held by two
// sessions at a time, and every port lease was freed.
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { eventually, freshDatabase } from '../../core/test/backends.js';
import { BIN, baton } from './run-baton.js';
import { FIXTURE_ENV } from '../../flows/test/config-helpers.js';

const PG = process.env.BATON_PG_URL;
const EXAMPLE = fileURLToPath(new URL('../../../examples/architect/baton', import.meta.url));

interface Proc {
  child: ChildProcess;
  output: () => string;
}

describe.skipIf(!PG)('Architect crash recovery (PostgreSQL, separate processes)', () => {
  let url = '';
  let dir = '';
  let db: pg.Client;
  const procs: Proc[] = [];
  const env = () => ({
    ...FIXTURE_ENV,
    BATON_DATABASE_URL: url,
    BATON_CONFIG_DIR: dir,
    BATON_LOG_LEVEL: 'error',
  });

  function start(args: string[], ready: RegExp): Promise<Proc> {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, ...env() },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    const proc = { child, output: () => out };
    procs.push(proc);
    return new Promise((resolve, reject) => {
      const timer = setInterval(() => {
        if (ready.test(out)) {
          clearInterval(timer);
          resolve(proc);
        }
      }, 20);
      child.on('exit', (code) => {
        clearInterval(timer);
        reject(new Error(`baton ${args.join(' ')} exited ${code} before it was ready: ${out}`));
      });
    });
  }

  const architect = () => start(['architect', '--lease', '2s', '--sla-interval', '1s'], /architect running/);
  // each task takes 1.5 s and answers with its prompt
  const session = (name: string) =>
    start(
      ['session', 'run', name, '--provider', 'claude', '--capacity', '2', '--', 'sh', '-c', 'sleep 1.5; cat'],
      /registered/,
    );

  beforeAll(async () => {
    url = await freshDatabase();
    dir = mkdtempSync(join(tmpdir(), 'baton-architect-crash-'));
    cpSync(EXAMPLE, dir, { recursive: true });
    const rules = join(dir, 'base', 'routing_rules.yaml');
    // sessions silent for 3 s are stale, checked every second; the example's rules otherwise
    writeFileSync(
      rules,
      readFileSync(rules, 'utf8')
        .replace('check_interval_seconds: 30', 'check_interval_seconds: 1')
        .replace('stale_threshold_minutes: 5', 'stale_threshold_minutes: 0.05')
        .replace('max_queue_size: 100', 'max_queue_size: 1000'),
    );
    db = new pg.Client({ connectionString: url });
    await db.connect();
  });

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await db?.end();
  });

  it('loses no task and never lets two sessions hold one when control planes and sessions are killed', async () => {
    const a1 = await architect();
    await architect();
    const s1 = await session('dev_worker1');
    await session('dev_worker2');
    await session('dev_worker3');

    const ids: string[] = [];
    for (let i = 0; i < 24; i++) {
      // Task 10 is a feature too: dev_worker1 (its preferred session) has a task to be running when
      // the test waits for one, even when it finished the earlier ones while the sends were slow.
      const type = i % 2 || i === 10 ? 'feature_development' : 'bug_fix';
      const r = await baton(['tasks', 'send', `task ${i}`, '--type', type, '--timeout', '2m', '--json'], {
        env: env(),
      });
      expect(r.code, r.stderr).toBe(0);
      ids.push(JSON.parse(r.stdout).id);
      if (i === 6) a1.child.kill('SIGKILL'); // mid-assignment: workflows it held are taken over
      if (i === 10) {
        // mid-task: once it runs one, its tasks go back to the queue when it turns stale
        await eventually(
          async () =>
            (
              await db.query(
                `SELECT 1 FROM baton.architect_tasks WHERE assigned_session = 'dev_worker1' AND status = 'running'`,
              )
            ).rowCount! > 0,
          30_000,
          'dev_worker1 to run a task',
        );
        s1.child.kill('SIGKILL');
      }
    }
    await session('dev_worker4');
    await architect();

    await eventually(
      async () => {
        const r = await db.query(
          `SELECT count(*)::int AS n FROM baton.architect_tasks WHERE status = 'completed'`,
        );
        return r.rows[0].n === ids.length;
      },
      90_000,
      'every task to complete',
    );

    const tasks = await db.query(
      `SELECT id, prompt, result, status FROM baton.architect_tasks ORDER BY created_at`,
    );
    expect(tasks.rows.map((r) => r.id).sort()).toEqual([...ids].sort());
    for (const t of tasks.rows) expect(t.result).toBe(t.prompt);

    const events = await db.query<{ task_id: string; event: string; session: string | null }>(
      `SELECT task_id, event, session FROM baton.architect_task_events ORDER BY id`,
    );
    const ends = new Set([
      'timed_out',
      'reassigned',
      'requeued_stale',
      'retried',
      'failed',
      'cancelled',
      'completed',
    ]);
    for (const id of ids) {
      const mine = events.rows.filter((e) => e.task_id === id);
      expect(mine.filter((e) => e.event === 'completed')).toHaveLength(1);
      // between two assignments the first one ended: never two holders at once
      let holding: string | null = null;
      for (const e of mine) {
        if (e.event === 'assigned') {
          expect(holding, `task ${id} assigned to ${e.session} while ${holding} held it`).toBeNull();
          holding = e.session;
        } else if (ends.has(e.event)) holding = null;
      }
    }
    // the killed session's tasks went back to the queue (under heavy load a live session may miss
    // its heartbeats too; its tasks are then requeued as well, which the checks above cover)
    const stale = events.rows.filter((e) => e.event === 'requeued_stale');
    expect(stale.some((e) => e.session === 'dev_worker1')).toBe(true);
    const ported = await db.query(
      `SELECT port FROM baton.architect_tasks WHERE type = 'feature_development'`,
    );
    expect(ported.rows.every((r) => r.port >= 6001 && r.port <= 6010)).toBe(true);
    await eventually(
      async () => (await db.query('SELECT 1 FROM baton.architect_port_leases')).rowCount === 0,
      20_000,
      'every port lease to be freed',
    );
    const sessions = await db.query<{ name: string; state: string }>(
      'SELECT name, state FROM baton.architect_sessions ORDER BY name',
    );
    expect(sessions.rows.find((s) => s.name === 'dev_worker1')?.state).toBe('stale');
  }, 180_000); // 24 sends through the CLI, then up to 90 s for every task, then the lease check
});
