// What the engine is doing now, for dashboards and APIs: each queue's executions by status with its
// limits, the workers with their heartbeats, the cron schedules with their next fires. The queue and
// worker counts scan the executions that are not finished (no index covers running ones, decision 0006).
import type { Queryable } from './driver/types.js';

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
}

/** Every queue that has unfinished executions or limits, by name. */
export async function queueStates(db: Queryable): Promise<QueueState[]> {
  const rows = await db.query<{
    name: string;
    ready: string | number;
    scheduled: string | number;
    running: string | number;
    waiting: string | number;
    concurrency_limit: number | null;
    rate_limit: number | null;
    rate_interval_ms: number | null;
  }>(
    `WITH counts AS (
       SELECT queue,
              count(*) FILTER (WHERE status = 'queued' AND run_at <= now()) AS ready,
              count(*) FILTER (WHERE status = 'queued' AND run_at > now()) AS scheduled,
              count(*) FILTER (WHERE status = 'running') AS running,
              count(*) FILTER (WHERE status = 'waiting') AS waiting
       FROM baton.executions WHERE status IN ('queued', 'running', 'waiting') GROUP BY queue
     )
     SELECT coalesce(c.queue, q.name) AS name, coalesce(c.ready, 0) AS ready,
            coalesce(c.scheduled, 0) AS scheduled, coalesce(c.running, 0) AS running,
            coalesce(c.waiting, 0) AS waiting, q.concurrency_limit, q.rate_limit, q.rate_interval_ms
     FROM counts c FULL JOIN baton.queues q ON q.name = c.queue
     ORDER BY 1`,
  );
  return rows.map((r) => ({
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
  }));
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
