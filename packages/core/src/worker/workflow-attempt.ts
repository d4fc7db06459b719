// One run of a workflow: replay its history, go as far as it can, then complete, fail or suspend.
import { BatonError, NonRetryableError } from '../errors.js';
import { attemptSpan, endSpan, withSpan } from '../telemetry/trace.js';
import { after } from '../timers.js';
import { cancelTree } from '../sql/cancel.js';
import { toJsonText } from '../json.js';
import { errorToJson } from '../execution.js';
import { WorkflowRun } from '../workflow/runner.js';
import { continueRun, suspend, toReplayState, type ReplayState } from '../workflow/history.js';
import type { HistoryWriter } from '../workflow/history-writer.js';
import type { WorkflowDefinition } from '../workflow/definition.js';
import type { Attempt } from '../attempt.js';
import { finishAttempt, type AttemptOutcome } from '../sql/finish.js';
import type { ClaimedRow } from '../sql/claim.js';
import type { Logger } from '../logger.js';
import type { Store } from '../store.js';
import type { Lifecycle } from './lifecycle.js';
import type { OutcomeWriter } from './outcomes.js';
import type { WorkerMetrics } from '../telemetry/metrics.js';

/** What a workflow run needs from its worker. */
export interface WorkflowAttemptHost {
  readonly workerId: string;
  readonly store: Store;
  readonly life: Lifecycle;
  readonly log: Logger;
  readonly outcomes: OutcomeWriter;
  /** The worker's shared writer of history entries (batched across its runs). */
  readonly history: HistoryWriter;
  /** The workflow is due again in `ms` (a sleep, a signal wait's timeout): wake for it. */
  wakeIn(ms: number): void;
  /** Where runs are counted, when the worker keeps metrics. */
  readonly metrics?: WorkerMetrics;
}

export async function runWorkflowAttempt(
  row: ClaimedRow,
  def: WorkflowDefinition,
  attempt: Attempt,
  host: WorkflowAttemptHost,
): Promise<void> {
  const lease = { executionId: row.id, workerId: host.workerId, attempt: row.attempts };
  const freesSlotOf = row.holds_slot ? row.queue : null;
  const end = (o: AttemptOutcome, error?: unknown) =>
    host.outcomes.finish(row, o, error === undefined ? null : errorToJson(error, row.attempts));
  const log = host.log.child({ workflow: row.name, execution: row.id });
  let input: unknown;
  try {
    input = def.schema ? def.schema.parse(row.input) : row.input;
  } catch (err) {
    await end(
      { kind: 'failed' },
      new NonRetryableError(
        `stored input of workflow '${row.name}' does not match its schema: ${(err as Error).message}`,
      ),
    );
    return;
  }
  // Past its timeout the run fails: its steps see their AbortSignal, what it started is cancelled.
  const deadline = row.deadline_at === null ? null : new Date(row.deadline_at);
  const timedOut = () =>
    attempt.abort(
      'timeout',
      new BatonError('E_TIMEOUT', `workflow '${row.name}' passed its timeout (${deadline!.toISOString()})`),
    );
  const disarm =
    deadline === null ? undefined : after(Math.max(0, deadline.getTime() - Date.now()), timedOut);
  const run = new WorkflowRun(
    host.store.driver,
    host.history,
    lease,
    def,
    attempt.signal,
    log,
    host.store.artifacts,
    row.run,
  );
  // A span per run (a first run or a resumption), in the trace the workflow was started in; its
  // steps, activities and children descend from it.
  const began = performance.now();
  const { span, parent } = attemptSpan('workflow', row);
  let outcome: Awaited<ReturnType<WorkflowRun['run']>>;
  try {
    outcome =
      deadline !== null && deadline.getTime() <= Date.now()
        ? (timedOut(), { kind: 'cancelled', error: attempt.abortError })
        : await withSpan(span, parent, () => run.run(input, replayStateOf(row)));
  } catch (err) {
    endSpan(span, err);
    throw err;
  } finally {
    disarm?.();
  }
  endSpan(span, outcome.kind === 'failed' ? outcome.error : undefined, { 'baton.outcome': outcome.kind });
  const timedOutRun = attempt.abortedBy === 'timeout' && outcome.kind !== 'completed';
  host.metrics?.ended(
    'workflow',
    row.name,
    row.queue,
    timedOutRun ? 'failed' : outcome.kind,
    performance.now() - began,
  );
  // Nothing of this run may land after its outcome (the next run of a continueAsNew, or the next
  // claim of a suspended workflow, can hold the same lease).
  await run.writesSettled();
  // Declared dead meanwhile: the workflow was handed to another worker, nothing of this run counts.
  if (attempt.abortedBy === 'lost') return;
  if (attempt.abortedBy === 'timeout' && outcome.kind !== 'completed') {
    // The failure and the cancel of what it started, together: a crash between them would leave
    // activities and children running for a workflow that has failed.
    const errorJson = errorToJson(attempt.abortError, row.attempts);
    const failed = await host.life.persist(`record the timeout of ${row.id}`, () =>
      host.store.driver.transaction(async (tx) => {
        const ok = await finishAttempt(
          tx,
          host.workerId,
          row.id,
          row.attempts,
          { kind: 'failed' },
          errorJson,
          freesSlotOf,
        );
        if (ok) await cancelTree(tx, row.id, true);
        return ok;
      }),
    );
    if (failed) host.store.recorded([row.id]);
    return;
  }
  switch (outcome.kind) {
    case 'completed': {
      let text: string;
      try {
        text = toJsonText(
          outcome.output === undefined ? null : outcome.output,
          `result of workflow '${row.name}'`,
        );
      } catch (err) {
        await end({ kind: 'failed' }, err);
        break;
      }
      // Batched with the worker's other completions; the step results the run has not written
      // yet go in the same statement.
      host.outcomes.complete({
        id: row.id,
        attempt: row.attempts,
        output: text,
        hasParent: row.has_parent,
        freesSlotOf,
        entries: outcome.unrecorded,
      });
      break;
    }
    case 'suspended': {
      // A workflow with a timeout is due again at its deadline at the latest.
      const wakeAt = deadline && (!outcome.wakeAt || deadline < outcome.wakeAt) ? deadline : outcome.wakeAt;
      const ok = await host.life.persist(`suspend ${row.id}`, () =>
        suspend(host.store.driver, lease, outcome.knownSignals, wakeAt, freesSlotOf),
      );
      if (ok && wakeAt) host.wakeIn(Math.max(1, wakeAt.getTime() - Date.now()));
      break;
    }
    case 'continued': {
      const ok = await host.life.persist(`continue ${row.id} as new`, () =>
        continueRun(host.store.driver, lease, outcome.input, outcome.steps, freesSlotOf),
      );
      if (ok) host.store.recorded([row.id]);
      break;
    }
    case 'lost':
      host.log.warn({ execution: row.id }, 'workflow run stopped: another worker owns this workflow now');
      break;
    case 'interrupted':
      host.log.warn(
        { execution: row.id, err: (outcome.error as Error)?.message },
        'workflow run interrupted by a database error; it will be replayed',
      );
      await end({ kind: 'released' });
      break;
    case 'cancelled':
    case 'failed':
      // Not a cancellation: this worker is stopping. Give the workflow back to be replayed elsewhere.
      if (attempt.abortedBy === 'shutdown') await end({ kind: 'released' });
      // A workflow's own failure is final: replaying the same code over the same history would fail again.
      else await end({ kind: outcome.kind }, outcome.error);
      break;
  }
}

/** What the run replays from: the claim read it, or the row was inserted claimed here. */
function replayStateOf(row: ClaimedRow): ReplayState {
  if (row.startedHere) return { history: [], signalCount: 0, createdAt: row.startedHere.createdAt };
  if (!row.replay) throw new Error(`workflow ${row.id} was claimed without its history`);
  return toReplayState(row.replay);
}
