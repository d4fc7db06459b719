// `node --import tsx examples/architect/make-db.ts [out.db] [--size small|bench] [--seed N]`
//
// Creates the SQLite database the Architect fixture queries (examples/architect/baton/base/queries.yaml)
// read: tasks, sessions, errors, projects and prompts, with seed data. The data is deterministic for
// a seed (a seeded PRNG), and its timestamps are relative to now, in SQLite's `YYYY-MM-DD HH:MM:SS`
// UTC form, since the queries compare them with datetime('now', …). Times keep clear of the
// thresholds the queries use (5 minutes, 60 minutes, 1 day, 7 days), so a test that computes the
// expected rows from the returned data gets the same answer as the SQL a few minutes later.
// No indexes: `baton queries apply-indexes` creates them.
import { mkdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openSqlite } from '../../packages/flows/src/queries/sqlite-driver.js';

/** How much data: `small` for tests and the example, `bench` for `npm run bench -- queries`. */
export type ArchitectSize = 'small' | 'bench';

export const ARCHITECT_SIZES: Record<
  ArchitectSize,
  Record<'tasks' | 'sessions' | 'errors' | 'projects' | 'prompts', number>
> = {
  small: { tasks: 600, sessions: 24, errors: 150, projects: 8, prompts: 80 },
  bench: { tasks: 100_000, sessions: 1_000, errors: 10_000, projects: 100, prompts: 5_000 },
};

export const TASK_TYPES = [
  'ui_improvement',
  'performance_optimization',
  'bug_fix',
  'feature_development',
  'infrastructure',
  'testing',
  'refactoring',
  'documentation',
] as const;
export const TASK_STATUSES = ['pending', 'in_progress', 'completed', 'failed'] as const;
export const SESSION_STATUSES = ['idle', 'working', 'waiting_approval', 'offline'] as const;
export const PROMPT_STATUSES = ['pending', 'assigned', 'in_progress', 'completed', 'failed'] as const;
const PROVIDERS = ['claude', 'codex', 'gemini', 'ollama'] as const;

export interface TaskRow {
  id: number;
  type: string;
  status: string;
  priority: number;
  created_at: string;
  assigned_to: string | null;
  completed_at: string | null;
  metadata: string;
}
export interface SessionRow {
  name: string;
  status: string;
  current_task_id: number | null;
  provider: string;
  idle_since: string | null;
  last_heartbeat: string;
}
export interface ErrorRow {
  error_type: string;
  message: string;
  source: string;
  first_seen: string;
  last_seen: string;
  node_id: string;
  resolved: number;
}
export interface ProjectRow {
  id: number;
  name: string;
  status: string;
  created_at: string;
}
export interface PromptRow {
  id: number;
  content: string;
  status: string;
  priority: number;
  created_at: string;
  target_session: string | null;
  timeout_minutes: number;
  retry_count: number;
  assigned_at: string | null;
}

/** The generated rows, and the instant (ms) their timestamps are relative to. */
export interface ArchitectData {
  now: number;
  tasks: TaskRow[];
  sessions: SessionRow[];
  errors: ErrorRow[];
  projects: ProjectRow[];
  prompts: PromptRow[];
}

export interface ArchitectDataOptions {
  size?: ArchitectSize;
  /** The PRNG seed (default 42): the same seed gives the same rows, relative to `now`. */
  seed?: number;
  /** The instant timestamps are relative to, in ms (default: now). */
  now?: number;
}

const MIN = 60;
const HOUR = 60 * MIN;
const DAY = 24 * HOUR;

/** mulberry32: a small, fast PRNG with a 32-bit seed. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1));
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)];
  /** An item by weight: weights[i] is the share of items[i]. */
  const weighted = <T>(items: readonly T[], weights: readonly number[]) => {
    let r = next() * weights.reduce((a, b) => a + b, 0);
    for (let i = 0; i < items.length; i++) if ((r -= weights[i]) < 0) return items[i];
    return items[items.length - 1];
  };
  return { next, int, pick, weighted };
}

/** SQLite's datetime('now') form, UTC: `2024-05-01 12:00:00`. */
export function sqliteTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
}

/** The instant (ms) of a timestamp in SQLite's form. */
export function parseSqliteTime(text: string): number {
  return Date.parse(`${text.replace(' ', 'T')}Z`);
}

/** Generates the rows (without writing them); see the file comment for the guarantees. */
export function generateArchitectData(options: ArchitectDataOptions = {}): ArchitectData {
  const counts = ARCHITECT_SIZES[options.size ?? 'small'];
  const now = options.now ?? Date.now();
  const rnd = prng(options.seed ?? 42);
  const at = (ageSeconds: number) => sqliteTime(now - ageSeconds * 1000);
  const used = new Set<number>();
  /** An age in [lo, hi] seconds outside the `avoid` bands, distinct from earlier ones while there is room. */
  const age = (lo: number, hi: number, avoid: readonly [number, number][] = []): number => {
    for (let tries = 0; ; tries++) {
      const a = rnd.int(lo, hi);
      if (avoid.some(([from, to]) => a >= from && a <= to)) continue;
      if (used.has(a) && tries < 50) continue;
      used.add(a);
      return a;
    }
  };
  const pad = String(counts.sessions).length;
  const sessionName = (i: number) => `session-${String(i + 1).padStart(pad, '0')}`;
  const projectName = (i: number) => `project-${i + 1}`;

  const projects: ProjectRow[] = Array.from({ length: counts.projects }, (_, i) => ({
    id: i + 1,
    name: projectName(i),
    status: rnd.weighted(['active', 'paused', 'archived'], [6, 2, 2]),
    created_at: at(rnd.int(30 * DAY, 365 * DAY)),
  }));

  // Tasks: created up to 14 days ago, never within 10 minutes of "60 minutes ago" (the SLA default)
  // nor within half a day of "7 days ago"; a completed task's completion not near "1 day ago".
  const tasks: TaskRow[] = [];
  for (let id = 1; id <= counts.tasks; id++) {
    let status: string = rnd.weighted(TASK_STATUSES, [25, 15, 45, 15]);
    const created = age(0, 14 * DAY, [
      [50 * MIN, 70 * MIN],
      [6.5 * DAY, 7.5 * DAY],
    ]);
    let completedAge: number | undefined;
    if (status === 'completed') {
      for (let tries = 0; tries < 20 && completedAge === undefined; tries++) {
        const duration = rnd.int(2 * MIN, Math.min(created, 48 * HOUR));
        const done = created - duration;
        const nearSla = duration >= 59 * MIN && duration <= 61 * MIN;
        const nearDay = done >= 22 * HOUR && done <= 26 * HOUR;
        if (done >= 0 && !nearSla && !nearDay) completedAge = done;
      }
      // Too young to have been completed away from the thresholds: it failed instead.
      if (completedAge === undefined) status = 'failed';
    }
    tasks.push({
      id,
      type: rnd.pick(TASK_TYPES),
      status,
      priority: rnd.int(1, 10),
      created_at: at(created),
      assigned_to: status === 'pending' ? null : sessionName(rnd.int(0, counts.sessions - 1)),
      completed_at: completedAge === undefined ? null : at(completedAge),
      metadata: JSON.stringify({
        project: projectName(rnd.int(0, counts.projects - 1)),
        source: 'dashboard',
      }),
    });
  }
  const inProgress = tasks.filter((t) => t.status === 'in_progress');

  // Sessions: a live heartbeat is at most 3 minutes old (active means under 5), a stale one at least
  // 20 minutes, and none within 4 hours of "24 hours ago".
  const sessions: SessionRow[] = Array.from({ length: counts.sessions }, (_, i) => {
    const status = rnd.weighted(SESSION_STATUSES, [35, 40, 10, 15]);
    const live = status !== 'offline' && rnd.next() < 0.75;
    const heartbeat = live ? age(5, 3 * MIN) : age(20 * MIN, 3 * DAY, [[20 * HOUR, 28 * HOUR]]);
    return {
      name: sessionName(i),
      status,
      current_task_id: status === 'working' && inProgress.length ? rnd.pick(inProgress).id : null,
      provider: rnd.pick(PROVIDERS),
      idle_since: status === 'idle' ? at(age(heartbeat + 1, heartbeat + 3 * HOUR)) : null,
      last_heartbeat: at(heartbeat),
    };
  });

  const errorTypes = [
    'TimeoutError',
    'ConnectionError',
    'ValidationError',
    'PermissionError',
    'RateLimitError',
  ];
  const errors: ErrorRow[] = Array.from({ length: counts.errors }, () => {
    const type = rnd.pick(errorTypes);
    const firstSeen = rnd.int(HOUR, 10 * DAY);
    return {
      error_type: type,
      message: `${type}: ${rnd.pick(['request failed', 'worker gave up', 'upstream refused'])}`,
      source: rnd.pick(['api', 'worker', 'scheduler']),
      first_seen: at(firstSeen),
      last_seen: at(rnd.int(0, firstSeen)),
      node_id: `node-${rnd.int(1, 4)}`,
      resolved: rnd.next() < 0.3 ? 1 : 0,
    };
  });

  const prompts: PromptRow[] = Array.from({ length: counts.prompts }, (_, i) => {
    const status = rnd.weighted(PROMPT_STATUSES, [30, 20, 15, 25, 10]);
    const created = age(MIN, 3 * DAY);
    const assigned = status === 'assigned' || status === 'in_progress';
    // One assigned prompt in ten names a session that no longer exists (the LEFT JOIN gives nulls).
    const target = assigned
      ? rnd.next() < 0.1
        ? 'session-gone'
        : sessionName(rnd.int(0, counts.sessions - 1))
      : null;
    return {
      id: i + 1,
      content: `Prompt ${i + 1}: ${rnd.pick(['fix the failing test', 'review the PR', 'update the docs', 'profile the API'])}`,
      status,
      priority: rnd.int(1, 10),
      created_at: at(created),
      target_session: target,
      timeout_minutes: rnd.pick([15, 30, 60]),
      retry_count: rnd.int(0, 3),
      assigned_at: assigned ? at(age(0, created - 1)) : null,
    };
  });

  return { now, tasks, sessions, errors, projects, prompts };
}

const SCHEMA = `
CREATE TABLE tasks (
  id INTEGER PRIMARY KEY,
  type TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%S', 'now')),
  assigned_to TEXT,
  completed_at TEXT,
  metadata TEXT
);
CREATE TABLE sessions (
  name TEXT PRIMARY KEY,
  status TEXT NOT NULL,
  current_task_id INTEGER,
  provider TEXT NOT NULL,
  idle_since TEXT,
  last_heartbeat TEXT NOT NULL
);
CREATE TABLE errors (
  id INTEGER PRIMARY KEY,
  error_type TEXT NOT NULL,
  message TEXT NOT NULL,
  source TEXT NOT NULL,
  first_seen TEXT NOT NULL,
  last_seen TEXT NOT NULL,
  node_id TEXT,
  resolved INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE projects (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  status TEXT NOT NULL,
  created_at TEXT NOT NULL
);
CREATE TABLE prompts (
  id INTEGER PRIMARY KEY,
  content TEXT NOT NULL,
  status TEXT NOT NULL,
  priority INTEGER NOT NULL,
  created_at TEXT NOT NULL,
  target_session TEXT,
  timeout_minutes INTEGER,
  retry_count INTEGER NOT NULL DEFAULT 0,
  assigned_at TEXT
);
`;

/** Writes `data` to a new SQLite file at `file` (replacing one that exists). */
export function writeArchitectDb(file: string, data: ArchitectData): void {
  mkdirSync(dirname(file), { recursive: true });
  rmSync(file, { force: true });
  const db = openSqlite(file);
  try {
    db.exec(SCHEMA);
    const insertAll = (table: string, rows: readonly object[]) => {
      if (rows.length === 0) return;
      const columns = Object.keys(rows[0]);
      const insert = db.prepare(
        `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`,
      );
      db.transaction(() => {
        for (const row of rows) insert.run(row);
      })();
    };
    insertAll('tasks', data.tasks);
    insertAll('sessions', data.sessions);
    insertAll('errors', data.errors);
    insertAll('projects', data.projects);
    insertAll('prompts', data.prompts);
  } finally {
    db.close();
  }
}

/** Generates the data and writes it to `file`; returns the rows written. */
export function makeArchitectDb(file: string, options: ArchitectDataOptions = {}): ArchitectData {
  const data = generateArchitectData(options);
  writeArchitectDb(file, data);
  return data;
}

const here = dirname(fileURLToPath(import.meta.url));

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(`--${name}`);
    if (i < 0) return undefined;
    const v = args[i + 1];
    if (v === undefined || v.startsWith('--')) throw new Error(`--${name} needs a value`);
    args.splice(i, 2);
    return v;
  };
  const size = flag('size') ?? 'small';
  if (size !== 'small' && size !== 'bench') throw new Error(`--size must be small or bench, got '${size}'`);
  const seedText = flag('seed');
  const seed = seedText === undefined ? undefined : Number(seedText);
  if (seed !== undefined && !Number.isInteger(seed))
    throw new Error(`--seed must be an integer, got '${seedText}'`);
  const out = resolve(args[0] ?? resolve(here, 'data/architect.db'));
  const data = makeArchitectDb(out, { size, seed });
  console.log(
    `wrote ${out}: ${data.tasks.length} tasks, ${data.sessions.length} sessions, ${data.errors.length} errors, ` +
      `${data.projects.length} projects, ${data.prompts.length} prompts`,
  );
}
