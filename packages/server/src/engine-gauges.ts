// The engine's state as Prometheus gauges, read when /metrics is scraped: executions by status, and
// per queue its depth and what it finished in the recent window (counts, throughput, latency and run
// percentiles), the per-queue gauges from one read of the queues per scrape.
// Workers count their own attempts (WorkerMetrics); the server reports what the store shows, so the
// figures are whole-cluster ones whichever worker did the work.
import { Gauge, type Registry } from 'prom-client';
import {
  EXECUTION_STATUSES,
  RECENT_WINDOW_MS,
  executionCounts,
  queueStates,
  type Driver,
  type Percentiles,
  type QueueState,
} from '@baton/core';
import type { SlaReport, SlaSeverity } from '@baton/flows';

const WINDOW = `the last ${RECENT_WINDOW_MS / 60_000} minutes`;
const QUANTILES = { '0.5': 'p50', '0.95': 'p95', '0.99': 'p99' } as const;

/** One read per scrape: the gauges collected together (prom-client collects them concurrently) share the call in flight. */
function onePerScrape<T>(read: () => Promise<T>): () => Promise<T> {
  let inFlight: Promise<T> | undefined;
  return () =>
    (inFlight ??= read().finally(() => {
      inFlight = undefined;
    }));
}

/** A gauge of `baton_queue_<what>{queue, ...}` set from each queue's state when scraped. */
function queueGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  queues: () => Promise<QueueState[]>,
  set: (gauge: Gauge<'queue' | L>, q: QueueState) => void,
): void {
  new Gauge({
    name,
    help,
    labelNames: ['queue', ...labelNames] as const,
    registers: [registry],
    async collect() {
      const states = await queues();
      this.reset();
      for (const q of states) set(this, q);
    },
  });
}

/** Sets one series per quantile, in seconds; none when nothing finished. */
function setQuantiles(gauge: Gauge<'queue' | 'quantile'>, queue: string, p: Percentiles | null): void {
  if (!p) return;
  for (const [quantile, key] of Object.entries(QUANTILES)) gauge.set({ queue, quantile }, p[key] / 1000);
}

export function registerEngineGauges(registry: Registry, driver: Driver): void {
  new Gauge({
    name: 'baton_executions',
    help: 'Executions in the store by status (every status, 0 when none)',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      const counts = await executionCounts(driver);
      for (const status of EXECUTION_STATUSES) this.set({ status }, counts[status]);
    },
  });
  const queues = onePerScrape(() => queueStates(driver));
  // The worker's gauge of the same name reads its own query; here the scrape's one read serves it.
  queueGauge(
    registry,
    'baton_queue_depth',
    'Executions per queue and status (queued, running, waiting)',
    ['status'],
    queues,
    (g, q) => {
      const depth = { queued: q.ready + q.scheduled, running: q.running, waiting: q.waiting };
      for (const [status, n] of Object.entries(depth)) if (n > 0) g.set({ queue: q.name, status }, n);
    },
  );
  queueGauge(
    registry,
    'baton_queue_finished',
    `Executions per queue completed or failed in ${WINDOW}`,
    ['status'],
    queues,
    (g, q) => {
      g.set({ queue: q.name, status: 'completed' }, q.recent.completed);
      g.set({ queue: q.name, status: 'failed' }, q.recent.failed);
    },
  );
  queueGauge(
    registry,
    'baton_queue_throughput_per_second',
    `Executions per queue completed or failed per second over ${WINDOW}`,
    [],
    queues,
    (g, q) => g.set({ queue: q.name }, q.recent.throughputPerSecond),
  );
  queueGauge(
    registry,
    'baton_queue_latency_seconds',
    `Creation to finish of the executions per queue finished in ${WINDOW}, by quantile`,
    ['quantile'],
    queues,
    (g, q) => setQuantiles(g, q.name, q.recent.latencyMs),
  );
  queueGauge(
    registry,
    'baton_queue_run_seconds',
    `Last claim to finish of the executions per queue finished in ${WINDOW}, by quantile`,
    ['quantile'],
    queues,
    (g, q) => setQuantiles(g, q.name, q.recent.runMs),
  );
}

/** The SLA states the Architect's monitor gives open tasks (sla_rules.yaml's escalation severities). */
const SLA_SEVERITIES = ['ok', 'warning', 'critical'] as const satisfies readonly SlaSeverity[];

/** `baton_sla_tasks{severity}`: open tasks with an SLA target, by severity, from the SLA report when scraped. */
export function registerSlaGauge(registry: Registry, report: () => Promise<Pick<SlaReport, 'tasks'>>): void {
  new Gauge({
    name: 'baton_sla_tasks',
    help: 'Open Architect tasks with an SLA target, by SLA severity (ok, warning, critical)',
    labelNames: ['severity'] as const,
    registers: [registry],
    async collect() {
      const { tasks } = await report();
      for (const severity of SLA_SEVERITIES)
        this.set({ severity }, tasks.filter((t) => t.severity === severity).length);
    },
  });
}
