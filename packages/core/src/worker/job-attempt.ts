// One attempt of a job: its context and timers, the handler, and what the attempt came to.
import { NonRetryableError } from '../errors.js';
import { attemptSpan, endSpan, withSpan } from '../telemetry/trace.js';
import { toJsonText } from '../json.js';
import { errorToJson } from '../execution.js';
import { retryDelayMs, type JobDefinition } from '../job.js';
import { AttemptContext } from '../job-context.js';
import type { Attempt } from '../attempt.js';
import type { AttemptOutcome } from '../sql/finish.js';
import type { ClaimedRow } from '../sql/claim.js';
import type { Logger } from '../logger.js';
import type { OutcomeWriter } from './outcomes.js';
import type { ArtifactStore } from '../artifacts/ledger.js';
import type { AttemptOutcomeLabel, WorkerMetrics } from '../telemetry/metrics.js';

/** What a job attempt needs from its worker. */
export interface JobAttemptHost {
  readonly log: Logger;
  readonly outcomes: OutcomeWriter;
  /** Where `ctx.artifacts` writes. */
  readonly artifacts: ArtifactStore;
  /** Where reported progress goes, to be written with the next heartbeat. */
  saveProgress(id: string, progress: string): void;
  /** A retry is due in `ms`: this worker wakes itself for it (others find it by polling). */
  wakeIn(ms: number): void;
  /** Where attempts are counted, when the worker keeps metrics. */
  readonly metrics?: WorkerMetrics;
  /** The worker deletes the top-level jobs it completes (`removeOnComplete`). */
  readonly removeOnComplete: boolean;
}

/**
 * Runs one attempt and records its outcome. `ended` is called as soon as the attempt is over,
 * in the same turn as its completion is queued: a hop through another promise before the
 * dispatcher hears of it cost the default settings a quarter of their throughput (paired runs).
 */
export async function runJobAttempt(
  row: ClaimedRow,
  def: JobDefinition,
  attempt: Attempt,
  host: JobAttemptHost,
  ended: () => void,
): Promise<void> {
  const ctx = new AttemptContext(row, attempt, def, host.log, host.saveProgress, host.artifacts);
  // A span per attempt, in the trace the job was enqueued in.
  const { span, parent } = attemptSpan('job', row);
  let failure: unknown;
  let outcome: AttemptOutcomeLabel = 'completed';
  const began = performance.now();
  try {
    ctx.start();
    const result = await attempt.run(() =>
      withSpan(span, parent, () => def.handler(parseInput(def, row), ctx)),
    );
    // An abort ends the attempt even if the handler ignores its signal and returns later.
    if (!result.ok) throw result.error;
    let text: string;
    try {
      text = toJsonText(result.output === undefined ? null : result.output, `result of job '${row.name}'`);
    } catch (err) {
      throw new NonRetryableError((err as Error).message, { cause: err });
    }
    host.outcomes.complete({
      id: row.id,
      attempt: row.attempts,
      output: text,
      hasParent: row.has_parent,
      freesSlotOf: row.holds_slot ? row.queue : null,
      // The statement keeps it if the artifacts ledger names it.
      remove: host.removeOnComplete && !row.has_parent,
    });
  } catch (err) {
    failure = err;
    outcome = await recordFailure(row, def, attempt, err, host);
  } finally {
    endSpan(span, failure);
    host.metrics?.ended('job', row.name, row.queue, outcome, performance.now() - began);
    ctx.end();
    ended();
  }
}

function parseInput(def: JobDefinition, row: ClaimedRow): unknown {
  if (!def.schema) return row.input;
  try {
    return def.schema.parse(row.input);
  } catch (err) {
    throw new NonRetryableError(
      `stored input of job '${row.name}' does not match its schema: ${(err as Error).message}`,
    );
  }
}

async function recordFailure(
  row: ClaimedRow,
  def: JobDefinition,
  attempt: Attempt,
  err: unknown,
  host: JobAttemptHost,
): Promise<AttemptOutcomeLabel> {
  // Another worker owns the job now; anything written here would be refused by the fence.
  if (attempt.abortedBy === 'lost') return 'lost';
  let outcome: AttemptOutcome;
  if (attempt.abortedBy === 'shutdown') outcome = { kind: 'released' };
  else if (attempt.abortedBy === 'cancelled') outcome = { kind: 'cancelled' };
  else if (err instanceof NonRetryableError || row.attempts >= row.max_attempts) outcome = { kind: 'failed' };
  else outcome = { kind: 'retry', delayMs: retryDelayMs(def, row.attempts) };
  const errorJson = outcome.kind === 'released' ? null : errorToJson(err, row.attempts);
  if (outcome.kind === 'failed' || outcome.kind === 'retry') {
    host.log.warn(
      {
        job: row.name,
        execution: row.id,
        attempt: row.attempts,
        err: (err as Error)?.message,
        outcome: outcome.kind,
      },
      'job attempt failed',
    );
  }
  const recorded = await host.outcomes.finish(row, outcome, errorJson);
  if (recorded === false)
    host.log.warn(
      { execution: row.id },
      'attempt outcome not recorded: this worker no longer holds the job (its lease expired)',
    );
  if (outcome.kind === 'retry') host.wakeIn(Math.max(1, outcome.delayMs));
  return outcome.kind;
}
