// What the engine is doing now, for dashboards and APIs: each queue's executions by status with its
// limits and its recent throughput and latency, the executions by status, the workers with their
// heartbeats, the cron schedules with their next fires. No index covers running or finished rows
// (decision 0006: an index on finished_at would make every completion a non-HOT update), so the
// queue and status counts read the whole table once per call; the recent figures ride on that same
// scan and sort only the window's rows.
import type { Queryable } from './driver/types.js';
import { EXECUTION_STATUSES, type ExecutionStatus } from './execution.js';

/** The window the queues' recent throughput and latency are measured over: the last 5 minutes. */
export const RECENT_WINDOW_MS = 5 * 60_000;

/** The 50th, 95th and 99th percentiles of a set of durations, in milliseconds. */
export interface Percentiles {
  p50: number;
  p95: number;
  p99: number;
}

/** What a queue finished in the last `windowMs` (completed and failed executions; cancelled ones are not counted). */
export interface RecentQueueStats {
  windowMs: number;
  completed: number;
  failed: number;
  /** (completed + failed) per second over the window. */
  throughputPerSecond: number;
  /** From creation to finish: what a caller waits for the result, delays, retries and workflow waits included. Null: none finished. */
  latencyMs: Percentiles | null;
  /** From the last claim to finish: the final attempt's run (a workflow's last resumption). Null: none finished. */
  runMs: Percentiles | null;
}

export interface QueueState {
  name: string;
  /** Queued and due now. */
  ready: number;
  /** Queued for later (a delay, a retry's back-off, a workflow's timer). */
  scheduled: number;
  running: number;
  /** Workflows suspended on a signal or a child. */
  waiting: number;
  /** The queue's global limits (`client.configureQueue`); null: none. */
  concurrencyLimit: number | null;
  rateLimit: { limit: number; intervalMs: number } | null;
  recent: RecentQueueStats;
}

type Count = string | number;

/** SQL: the 50th, 95th and 99th `percentile_disc` of `value` over the rows `where` holds; null for none. */
const percentilesOf = (value: string, where: string) =>
  `percentile_disc(ARRAY[0.5, 0.95, 0.99]) WITHIN GROUP (ORDER BY ${value}) FILTER (WHERE ${where})`;
const FINISHED = `status IN ('completed', 'failed')`;
/** SQL: milliseconds from column `from` to the finish. */
const msSince = (from: string) => `extract(epoch FROM finished_at - ${from}) * 1000`;

function percentiles(values: number[] | null): Percentiles | null {
  if (values === null) return null;
  const [p50, p95, p99] = values.map(Number) as [number, number, number];
  return { p50, p95, p99 };
}

/**
 * Every queue that has unfinished executions, executions finished in the last `windowMs`, or
 * limits, by name. Percentiles are `percentile_disc`: each is a duration some execution took.
 */
export async function queueStates(db: Queryable, windowMs = RECENT_WINDOW_MS): Promise<QueueState[]> {
  const rows = await db.query<{
    name: string;
    ready: Count;
    scheduled: Count;
    running: Count;
    waiting: Count;
    completed: Count;
    failed: Count;
    latency: number[] | null;
    run: number[] | null;
    concurrency_limit: number | null;
    rate_limit: number | null;
    rate_interval_ms: number | null;
  }>(
    `WITH counts AS (
       SELECT queue,
              count(*) FILTER (WHERE status = 'queued' AND run_at <= now()) AS ready,
              count(*) FILTER (WHERE status = 'queued' AND run_at > now()) AS scheduled,
              count(*) FILTER (WHERE status = 'running') AS running,
              count(*) FILTER (WHERE status = 'waiting') AS waiting,
              count(*) FILTER (WHERE status = 'completed') AS completed,
              count(*) FILTER (WHERE status = 'failed') AS failed,
              ${percentilesOf(msSince('created_at'), FINISHED)} AS latency,
              ${percentilesOf(msSince('started_at'), `${FINISHED} AND started_at IS NOT NULL`)} AS run
       FROM baton.executions
       WHERE status IN ('queued', 'running', 'waiting')
          OR (${FINISHED} AND finished_at > now() - $1::float8 * interval '1 millisecond')
       GROUP BY queue
     )
     SELECT coalesce(c.queue, q.name) AS name, coalesce(c.ready, 0) AS ready,
            coalesce(c.scheduled, 0) AS scheduled, coalesce(c.running, 0) AS running,
            coalesce(c.waiting, 0) AS waiting, coalesce(c.completed, 0) AS completed,
            coalesce(c.failed, 0) AS failed, c.latency::float8[] AS latency, c.run::float8[] AS run,
            q.concurrency_limit, q.rate_limit, q.rate_interval_ms
     FROM counts c FULL JOIN baton.queues q ON q.name = c.queue
     ORDER BY 1`,
    [windowMs],
  );
  return rows.map((r) => {
    const completed = Number(r.completed);
    const failed = Number(r.failed);
    return {
      name: r.name,
      ready: Number(r.ready),
      scheduled: Number(r.scheduled),
      running: Number(r.running),
      waiting: Number(r.waiting),
      concurrencyLimit: r.concurrency_limit,
      rateLimit:
        r.rate_limit === null || r.rate_interval_ms === null
          ? null
          : { limit: r.rate_limit, intervalMs: r.rate_interval_ms },
      recent: {
        windowMs,
        completed,
        failed,
        throughputPerSecond: (completed + failed) / (windowMs / 1000),
        latencyMs: percentiles(r.latency),
        runMs: percentiles(r.run),
      },
    };
  });
}

/** How many executions the store holds in each status, every status present (0 when none). */
export async function executionCounts(db: Queryable): Promise<Record<ExecutionStatus, number>> {
  const rows = await db.query<{ status: ExecutionStatus; n: Count }>(
    `SELECT status::text AS status, count(*) AS n FROM baton.executions GROUP BY status`,
  );
  const counts = Object.fromEntries(EXECUTION_STATUSES.map((s) => [s, 0])) as Record<ExecutionStatus, number>;
  for (const r of rows) counts[r.status] = Number(r.n);
  return counts;
}

export interface WorkerState {
  id: string;
  hostname: string;
  pid: number;
  queues: string[];
  names: string[];
  startedAt: Date;
  heartbeatAt: Date;
  /** Milliseconds since its last heartbeat, on the database's clock. */
  heartbeatAgeMs: number;
  leaseMs: number;
  /** Its heartbeat is within its lease: its executions are not taken from it. */
  live: boolean;
  /** Executions it runs now (claimed, not finished). */
  running: number;
}

/** The registered workers, newest first. */
export async function workerStates(db: Queryable): Promise<WorkerState[]> {
  const rows = await db.query<{
    id: string;
    hostname: string;
    pid: number;
    queues: string[];
    names: string[];
    started_at: Date | string;
    heartbeat_at: Date | string;
    age_ms: number;
    lease_ms: number;
    running: string | number;
  }>(
    `WITH held AS (
       SELECT lease_owner, count(*) AS n FROM baton.executions WHERE status = 'running' GROUP BY lease_owner
     )
     SELECT w.id, w.hostname, w.pid, w.queues, w.names, w.started_at, w.heartbeat_at, w.lease_ms,
            (extract(epoch FROM now() - w.heartbeat_at) * 1000)::float8 AS age_ms, coalesce(h.n, 0) AS running
     FROM baton.workers w LEFT JOIN held h ON h.lease_owner = w.id
     ORDER BY w.started_at DESC, w.id`,
  );
  return rows.map((r) => ({
    id: r.id,
    hostname: r.hostname,
    pid: r.pid,
    queues: r.queues,
    names: r.names,
    startedAt: new Date(r.started_at),
    heartbeatAt: new Date(r.heartbeat_at),
    heartbeatAgeMs: Math.max(0, Math.round(r.age_ms)),
    leaseMs: r.lease_ms,
    live: r.age_ms <= r.lease_ms,
    running: Number(r.running),
  }));
}

export interface ScheduleState {
  name: string;
  cron: string;
  /** IANA zone the cron is read in; null: UTC. */
  timezone: string | null;
  job: string;
  queue: string;
  input: unknown;
  missed: 'skip' | 'latest' | 'catch-up';
  nextFireAt: Date;
  lastFireAt: Date | null;
}

/** The cron schedules workers registered, by name. */
export async function scheduleStates(db: Queryable): Promise<ScheduleState[]> {
  const rows = await db.query<{
    name: string;
    cron: string;
    timezone: string | null;
    job_name: string;
    queue: string;
    input: unknown;
    missed: ScheduleState['missed'];
    next_fire_at: Date | string;
    last_fire_at: Date | string | null;
  }>(
    `SELECT name, cron, timezone, job_name, queue, input, missed, next_fire_at, last_fire_at
     FROM baton.schedules ORDER BY name`,
  );
  return rows.map((r) => ({
    name: r.name,
    cron: r.cron,
    timezone: r.timezone,
    job: r.job_name,
    queue: r.queue,
    input: r.input,
    missed: r.missed,
    nextFireAt: new Date(r.next_fire_at),
    lastFireAt: r.last_fire_at === null ? null : new Date(r.last_fire_at),
  }));
}
