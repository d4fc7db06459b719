// Every query of the fixture queries.yaml, run against the example database (examples/architect),
// its results checked against what the generated rows say, computed here in plain JS.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import { createQueryService, type QueryResult, type QueryService } from '../src/queries/index.js';
import {
  makeArchitectDb,
  parseSqliteTime,
  PROMPT_STATUSES,
  SESSION_STATUSES,
  TASK_STATUSES,
  TASK_TYPES,
  type ArchitectData,
  type TaskRow,
} from '../../../examples/architect/make-db.js';
import { FIXTURE_QUERIES, fixtureQueries, silent, sqliteSource, tempDir, view } from './queries-helpers.js';
import { queriesSchema } from '../src/config/kinds/queries.js';
import { datasourcesSchema } from '../src/config/kinds/datasources.js';

let data: ArchitectData;
let service: QueryService;
let remove: () => void;
const tested = new Set<string>();

/** Minutes from `ts` to the data's "now". */
const ageMin = (ts: string) => (data.now - parseSqliteTime(ts)) / 60_000;
const MIN_7_DAYS = 7 * 24 * 60;

async function run(name: string, params?: Record<string, unknown>): Promise<QueryResult> {
  tested.add(name);
  return service.run(name, params);
}
const col = (r: QueryResult, key: string) => r.results.map((row) => row[key]);
const byPriorityThenAge = (a: { priority: number; created_at: string }, b: typeof a) =>
  b.priority - a.priority || a.created_at.localeCompare(b.created_at);
/** Minutes a task took (completed) or has taken so far, as sla_breaches computes it. */
const elapsedMin = (t: TaskRow) =>
  t.completed_at
    ? (parseSqliteTime(t.completed_at) - parseSqliteTime(t.created_at)) / 60_000
    : ageMin(t.created_at);

beforeAll(async () => {
  const tmp = tempDir();
  remove = tmp.remove;
  data = makeArchitectDb(join(tmp.dir, 'data/architect.db'), { size: 'small', seed: 7 });
  service = await createQueryService(
    view(tmp.dir, { queries: fixtureQueries(), datasources: sqliteSource('data/architect.db') }),
    { logger: silent },
  );
});

afterAll(async () => {
  await service.close();
  remove();
});

describe('the fixture queries.yaml', () => {
  it('validates with no issue, and its schemas export as JSON Schema', () => {
    const parsed = queriesSchema.safeParse(parse(readFileSync(FIXTURE_QUERIES, 'utf8')));
    expect(parsed.error?.issues).toBeUndefined();
    expect(Object.keys(parsed.data!.queries)).toHaveLength(13);
    expect(z.toJSONSchema(queriesSchema)).toMatchObject({ type: 'object', additionalProperties: false });
    expect(z.toJSONSchema(datasourcesSchema)).toMatchObject({ type: 'object', required: ['datasources'] });
  });
});

describe('the fixture queries on the example database', () => {
  it('tasks_by_status: each status, by priority then age, limit applied', async () => {
    for (const status of TASK_STATUSES) {
      const expected = data.tasks.filter((t) => t.status === status).sort(byPriorityThenAge);
      expect(expected.length).toBeGreaterThan(0);
      const r = await run('tasks_by_status', { status });
      expect(col(r, 'id')).toEqual(expected.slice(0, 100).map((t) => t.id));
      expect(r.count).toBe(Math.min(100, expected.length));
      // elapsed_minutes is computed by SQLite from its own clock: within a few minutes of ours.
      expect(
        Math.abs((r.results[0].elapsed_minutes as number) - ageMin(expected[0].created_at)),
      ).toBeLessThan(5);
    }
    const five = await run('tasks_by_status', { status: 'completed', limit: '5' });
    expect(five.count).toBe(5);
  });

  it('tasks_pending_high_priority: default threshold 7, and a given one', async () => {
    for (const [params, min] of [
      [{}, 7],
      [{ min_priority: '9' }, 9],
    ] as const) {
      const expected = data.tasks
        .filter((t) => t.status === 'pending' && t.priority >= min)
        .sort(byPriorityThenAge);
      const r = await run('tasks_pending_high_priority', params);
      expect(col(r, 'id')).toEqual(expected.slice(0, 50).map((t) => t.id));
    }
  });

  it('tasks_by_type_and_status: newest first', async () => {
    for (const type of TASK_TYPES) {
      const expected = data.tasks
        .filter((t) => t.type === type && t.status === 'completed')
        .sort((a, b) => b.created_at.localeCompare(a.created_at));
      const r = await run('tasks_by_type_and_status', { task_type: type, status: 'completed' });
      expect(col(r, 'id')).toEqual(expected.slice(0, 100).map((t) => t.id));
    }
  });

  it('sessions_active: idle or working with a heartbeat under 5 minutes old', async () => {
    const expected = data.sessions.filter(
      (s) => (s.status === 'idle' || s.status === 'working') && ageMin(s.last_heartbeat) < 5,
    );
    expect(expected.length).toBeGreaterThan(0);
    const r = await run('sessions_active');
    expect([...col(r, 'name')].sort()).toEqual(expected.map((s) => s.name).sort());
  });

  it('sessions_by_status: each status, latest heartbeat first', async () => {
    for (const status of SESSION_STATUSES) {
      const expected = data.sessions
        .filter((s) => s.status === status)
        .sort((a, b) => b.last_heartbeat.localeCompare(a.last_heartbeat));
      const r = await run('sessions_by_status', { status });
      expect(col(r, 'name')).toEqual(expected.map((s) => s.name));
    }
  });

  it('sessions_idle: all idle sessions with the default, one fewer when one is excluded', async () => {
    const idle = data.sessions
      .filter((s) => s.status === 'idle')
      .sort((a, b) => a.idle_since!.localeCompare(b.idle_since!));
    const all = await run('sessions_idle');
    expect(col(all, 'name')).toEqual(idle.slice(0, 20).map((s) => s.name));
    const excluded = await run('sessions_idle', { excluded_sessions: idle[0].name });
    expect(col(excluded, 'name')).toEqual(idle.slice(1, 21).map((s) => s.name));
  });

  it('stats_dashboard: every count', async () => {
    const count = <T>(rows: T[], keep: (r: T) => boolean) => rows.filter(keep).length;
    const r = await run('stats_dashboard');
    expect(r.results).toEqual([
      {
        pending_tasks: count(data.tasks, (t) => t.status === 'pending'),
        active_tasks: count(data.tasks, (t) => t.status === 'in_progress'),
        completed_today: count(
          data.tasks,
          (t) => t.status === 'completed' && ageMin(t.completed_at!) < 24 * 60,
        ),
        failed_tasks: count(data.tasks, (t) => t.status === 'failed'),
        idle_sessions: count(data.sessions, (s) => s.status === 'idle'),
        working_sessions: count(data.sessions, (s) => s.status === 'working'),
        open_errors: count(data.errors, (e) => e.resolved === 0),
        active_projects: count(data.projects, (p) => p.status === 'active'),
      },
    ]);
  });

  it("task_performance_by_type: the fixture's default '-7' (quotes included) matches nothing; -7 does", async () => {
    // The default is the text 'quote -7 quote', written for string interpolation. Bound as data it
    // makes datetime('now', '''-7'' days') NULL, so nothing is newer than it.
    expect((await run('task_performance_by_type')).count).toBe(0);

    const recent = data.tasks.filter((t) => ageMin(t.created_at) < MIN_7_DAYS);
    const r = await run('task_performance_by_type', { days: '-7' });
    expect(r.count).toBe(new Set(recent.map((t) => t.type)).size);
    const totals = col(r, 'total') as number[];
    expect(totals).toEqual([...totals].sort((a, b) => b - a));
    for (const row of r.results) {
      const mine = recent.filter((t) => t.type === row.type);
      const durations = mine.filter((t) => t.completed_at).map(elapsedMin);
      expect(row).toMatchObject({
        total: mine.length,
        completed: mine.filter((t) => t.status === 'completed').length,
        failed: mine.filter((t) => t.status === 'failed').length,
        pending: mine.filter((t) => t.status === 'pending').length,
        in_progress: mine.filter((t) => t.status === 'in_progress').length,
      });
      expect(row.avg_priority).toBeCloseTo(mine.reduce((s, t) => s + t.priority, 0) / mine.length, 9);
      expect(row.min_duration_minutes).toBeCloseTo(Math.min(...durations), 9);
      expect(row.max_duration_minutes).toBeCloseTo(Math.max(...durations), 9);
      expect(row.avg_duration_minutes).toBeCloseTo(
        durations.reduce((s, d) => s + d, 0) / durations.length,
        9,
      );
    }
  });

  it('session_utilization: sessions with a heartbeat in the last 24 hours', async () => {
    const recent = data.sessions.filter((s) => ageMin(s.last_heartbeat) < 24 * 60);
    const r = await run('session_utilization');
    expect(r.count).toBe(recent.length);
    for (const row of r.results) {
      const s = recent.find((x) => x.name === row.name)!;
      expect(row).toMatchObject({
        provider: s.provider,
        times_busy: s.status === 'working' ? 1 : 0,
        times_idle: s.status === 'idle' ? 1 : 0,
      });
    }
    const busy = col(r, 'times_busy') as number[];
    expect(busy).toEqual([...busy].sort((a, b) => b - a));
  });

  it('sla_breaches: tasks of the last 7 days over 60 minutes, longest first', async () => {
    const breached = data.tasks.filter((t) => ageMin(t.created_at) < MIN_7_DAYS && elapsedMin(t) > 60);
    expect(breached.length).toBeGreaterThan(50);
    const top = await run('sla_breaches');
    expect(top.count).toBe(50);
    const elapsed = col(top, 'elapsed_minutes') as number[];
    expect(elapsed).toEqual([...elapsed].sort((a, b) => b - a));
    const all = await run('sla_breaches', { limit: 100_000 });
    expect([...(col(all, 'id') as number[])].sort((a, b) => a - b)).toEqual(
      breached.map((t) => t.id).sort((a, b) => a - b),
    );
    expect((await run('sla_breaches', { sla_threshold: 100_000 })).count).toBe(0);
  });

  it('prompts_by_status: each status, by priority then age', async () => {
    for (const status of PROMPT_STATUSES) {
      const expected = data.prompts.filter((p) => p.status === status).sort(byPriorityThenAge);
      const r = await run('prompts_by_status', { status });
      expect(col(r, 'id')).toEqual(expected.map((p) => p.id));
    }
  });

  it('prompts_active_assignments: assigned or in progress, their session joined when it exists', async () => {
    const active = data.prompts
      .filter((p) => p.status === 'assigned' || p.status === 'in_progress')
      .sort((a, b) => a.assigned_at!.localeCompare(b.assigned_at!));
    const r = await run('prompts_active_assignments', { limit: 1000 });
    expect(col(r, 'id')).toEqual(active.map((p) => p.id));
    for (const row of r.results) {
      const session = data.sessions.find((s) => s.name === row.target_session);
      expect(row.session_name).toBe(session?.name ?? null);
      expect(row.session_status).toBe(session?.status ?? null);
    }
    expect(r.results.some((row) => row.session_name === null)).toBe(true);
  });

  it('errors_unresolved: occurrences per error, type, source and node', async () => {
    const groups = new Map<string, number>();
    for (const e of data.errors.filter((x) => x.resolved === 0)) {
      const key = [e.error_type, e.message, e.source, e.node_id].join('|');
      groups.set(key, (groups.get(key) ?? 0) + 1);
    }
    const all = await run('errors_unresolved', { limit: 100_000 });
    expect(
      new Map(
        all.results.map((row) => [
          [row.error_type, row.message, row.source, row.node_id].join('|'),
          row.occurrence_count,
        ]),
      ),
    ).toEqual(groups);
    const counts = col(all, 'occurrence_count') as number[];
    expect(counts).toEqual([...counts].sort((a, b) => b - a));
    expect((await run('errors_unresolved')).count).toBe(Math.min(50, groups.size));
  });

  it('covered every query of the fixture', () => {
    expect([...tested].sort()).toEqual(
      service
        .list()
        .map((q) => q.name)
        .sort(),
    );
    expect(tested.size).toBe(13);
  });
});
