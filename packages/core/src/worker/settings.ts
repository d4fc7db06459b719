import type { WorkerMetrics } from '../telemetry/metrics.js';
import { hostname } from 'node:os';
import { BatonError } from '../errors.js';
import { toMs, type Duration } from '../duration.js';
import { checkBoolean, checkInt } from '../check.js';
import { newId } from '../ids.js';
import { Served, type Servable } from './served.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store.js';

/** A worker's options: what it serves (`jobs`, `workflows`, `schedules`, `queues`), then how. */
export interface WorkerOptions extends Servable {
  /** Handlers running at once. Default 10. */
  concurrency?: number;
  /**
   * Jobs claimed ahead and held locally beyond those running, so a fast handler never waits for
   * a round trip. Claims are batched up to this size. Default: `concurrency`.
   */
  prefetch?: number;
  /** How long completions wait to be written together; 0 writes them on the next tick. Default 0. */
  completionBatchDelay?: Duration;
  /**
   * How long a wake-up waits before the claim it starts, so that work announced meanwhile is
   * claimed in the same statement; 0 claims at once. Default 0. For work whose start may wait a
   * few milliseconds (the Architect's task workflows, woken by every task's outcome).
   */
  claimBatchDelay?: Duration;
  /** Poll interval when NOTIFY is silent. Default 1s. */
  pollInterval?: Duration;
  /** A worker that has not heartbeated for this long is dead and its jobs are claimed again. Default 30s. */
  lease?: Duration;
  /** How long stop() waits for running handlers before aborting them. Default 30s. */
  shutdownDeadline?: Duration;
  /** Finished executions are pruned after these ages (any one worker prunes). Default 7d and 30d. */
  retention?: { completed?: Duration; failed?: Duration };
  /**
   * Deletes each top-level job this worker completes in the completion statement itself, instead
   * of keeping it with its result until retention prunes it; jobs something else refers to are
   * kept (docs/jobs.md, "Removing completed jobs"). Default false.
   */
  removeOnComplete?: boolean;
  /** Worker id; default a new random id. */
  id?: string;
  logger?: Logger;
  /** Prometheus metrics to keep (docs/telemetry.md); none by default. */
  metrics?: WorkerMetrics;
}

/** A worker's options, checked, with every default filled in. */
export interface WorkerSettings {
  readonly id: string;
  readonly log: Logger;
  /** Its definitions, schedules, queues and names; `Worker.serve` adds to them. */
  readonly served: Served;
  readonly concurrency: number;
  readonly prefetch: number;
  readonly completionDelayMs: number;
  readonly claimDelayMs: number;
  readonly pollMs: number;
  readonly leaseMs: number;
  readonly shutdownMs: number;
  readonly retention: { completedMs: number; failedMs: number };
  readonly removeOnComplete: boolean;
  readonly metrics: WorkerMetrics | undefined;
}

/** Checks a worker's options and fills in the defaults; throws E_INVALID_OPTION naming the bad one. */
export function workerSettings(store: Store, options: WorkerOptions): WorkerSettings {
  const jobList = options.jobs ?? [];
  const workflowList = options.workflows ?? [];
  if (!Array.isArray(jobList) || !Array.isArray(workflowList) || jobList.length + workflowList.length === 0) {
    throw new BatonError(
      'E_INVALID_OPTION',
      'a worker needs at least one definition in `jobs` or `workflows`',
    );
  }
  const served = new Served();
  served.add({
    jobs: jobList,
    workflows: workflowList,
    schedules: options.schedules ?? [],
    ...(options.queues ? { queues: options.queues } : {}),
  });
  const concurrency = checkInt(options.concurrency, 'worker concurrency', 1, 100_000, 10);
  const id = options.id ?? `${hostname()}-${process.pid}-${newId().slice(-12)}`;
  return {
    id,
    log: (options.logger ?? store.logger).child({ worker: id }),
    served,
    concurrency,
    prefetch: checkInt(options.prefetch, 'worker prefetch', 0, 100_000, concurrency),
    completionDelayMs: toMs(options.completionBatchDelay ?? 0, 'completionBatchDelay'),
    claimDelayMs: toMs(options.claimBatchDelay ?? 0, 'claimBatchDelay'),
    pollMs: Math.max(10, toMs(options.pollInterval ?? 1000, 'pollInterval')),
    leaseMs: Math.max(100, toMs(options.lease ?? 30_000, 'lease')),
    shutdownMs: toMs(options.shutdownDeadline ?? 30_000, 'shutdownDeadline'),
    retention: {
      completedMs: toMs(options.retention?.completed ?? '7d', 'retention.completed'),
      failedMs: toMs(options.retention?.failed ?? '30d', 'retention.failed'),
    },
    removeOnComplete: checkBoolean(options.removeOnComplete, 'worker removeOnComplete', false),
    metrics: options.metrics,
  };
}
