// Prometheus metrics of a worker (prom-client): attempts by outcome, their durations per name,
// retries and failures, lease recoveries, handlers running, and queue depth read at scrape time.
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Driver } from '../driver/types.js';

/** What an attempt came to, as a label. */
export type AttemptOutcomeLabel =
  | 'completed'
  | 'retry'
  | 'failed'
  | 'cancelled'
  | 'released'
  | 'suspended'
  | 'continued'
  | 'interrupted'
  | 'lost';

/**
 * `baton_queue_depth{queue,status}`: executions queued, running and waiting per queue, read when
 * scraped (one grouped count per scrape), in `registry`. Workers and the HTTP server both serve it.
 */
export function registerQueueDepth(registry: Registry, driver: Driver): void {
  new Gauge({
    name: 'baton_queue_depth',
    help: 'Executions per queue and status (queued, running, waiting)',
    labelNames: ['queue', 'status'] as const,
    registers: [registry],
    async collect() {
      const rows = await driver.query<{ queue: string; status: string; n: string | number }>(
        `SELECT queue, status::text AS status, count(*) AS n FROM baton.executions
         WHERE status IN ('queued', 'running', 'waiting') GROUP BY queue, status`,
      );
      this.reset();
      for (const r of rows) this.set({ queue: r.queue, status: r.status }, Number(r.n));
    },
  });
}

/** Histogram buckets for durations, in seconds: 1 ms to 5 min. */
export const DURATION_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300];

/**
 * The metrics of one worker, in a registry of their own. Give it to `new Worker(store, { metrics })`
 * and serve `registry.metrics()` (`baton worker --metrics-port` does).
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  private readonly attempts = new Counter({
    name: 'baton_attempts_total',
    help: 'Attempts of jobs and runs of workflows ended, by outcome',
    labelNames: ['kind', 'name', 'queue', 'outcome'] as const,
    registers: [this.registry],
  });
  private readonly duration = new Histogram({
    name: 'baton_attempt_duration_seconds',
    help: 'How long attempts (jobs) and runs (workflows) took, claim to outcome',
    labelNames: ['kind', 'name'] as const,
    buckets: DURATION_BUCKETS,
    registers: [this.registry],
  });
  private readonly recoveries = new Counter({
    name: 'baton_lease_recoveries_total',
    help: 'Executions taken back from workers whose lease expired',
    registers: [this.registry],
  });
  private runningNow: () => number = () => 0;

  constructor(driver?: Driver) {
    const running = () => this.runningNow();
    new Gauge({
      name: 'baton_worker_running',
      help: 'Handlers running in this worker',
      registers: [this.registry],
      collect() {
        this.set(running());
      },
    });
    if (driver) registerQueueDepth(this.registry, driver);
  }

  /** An attempt or run ended. */
  ended(
    kind: 'job' | 'workflow',
    name: string,
    queue: string,
    outcome: AttemptOutcomeLabel,
    ms: number,
  ): void {
    this.attempts.inc({ kind, name, queue, outcome });
    this.duration.observe({ kind, name }, ms / 1000);
  }

  /** Executions recovered from dead workers. */
  recovered(n: number): void {
    this.recoveries.inc(n);
  }

  /** Where the number of handlers running is read when scraped. */
  observeRunning(count: () => number): void {
    this.runningNow = count;
  }

  /** The Prometheus text exposition. */
  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
