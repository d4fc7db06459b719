// Every task runs as one durable workflow: it routes the task (through the dispatcher), waits for its
// session's outcome or its timeout, applies the fallback rules (reassign, retry, fail), creates and
// merges its environment through the hooks, and at the end frees its port and clears its alerts.
// The task's row is the truth; the workflow reads it after every wake-up, so a lost wake-up or a
// crash at any point costs at most one timer, never the task.
import { defineWorkflow, type Client, type Queryable, type WorkflowDefinition } from '@baton/core';
import { CHANGED_SIGNAL, DISPATCH_CHANNEL, SESSION_CHANNEL, type ArchitectContext } from './context.js';
import { environmentNeeds } from './environment.js';
import { runHook } from './hooks.js';
import { reassignPolicy } from './task-rules.js';
import { recordEvents } from './store/events.js';
import { TASK_COLUMNS, isFinal, type TaskRow, type TaskStatus } from './store/rows.js';
import { endBadAttempt, readTask, updateTask } from './store/task-sql.js';
import { taskView } from './store/view.js';

export const TASK_WORKFLOW = 'architect.task';
export const ARCHITECT_QUEUE = 'architect';

/** The longest a workflow waits before it looks at its task again when nothing wakes it. */
const MAX_WAIT_MS = 10 * 60_000;
/** Wake-ups per workflow run before it continues as new (bounds its history). */
const ITERATIONS_PER_RUN = 100;

/**
 * Starts the workflows of tasks, in the transaction that stores or requeues them, so that a task
 * and its workflow exist together or not at all (idempotent: the id is the task's workflow id).
 * With `first_wait_ms` a workflow begins suspended: the task was routed as it was sent, so its
 * first look can wait for the outcome signal (or that long); a task whose environment hook must
 * run is looked at at once.
 */
export type TaskWorkflowStarter = (
  db: Queryable,
  tasks: readonly { workflow_id: string; id: string; first_wait_ms?: number }[],
) => Promise<void>;

export function workflowStarter(
  client: Client,
  workflow: () => WorkflowDefinition<TaskWorkflowInput>,
): TaskWorkflowStarter {
  return async (db, tasks) => {
    await client.startMany(
      workflow(),
      tasks.map((t) => ({
        id: t.workflow_id,
        input: { task: t.id },
        ...(t.first_wait_ms ? { waitFirst: t.first_wait_ms } : {}),
      })),
      { db },
    );
  };
}

/**
 * How long the workflow of a task that is not yet assigned waits before it looks again: the task's
 * timeout (at most MAX_WAIT_MS). Routing it is the dispatcher's business (on every change, and every
 * few seconds); the workflow only has to see its deadline, and an assignment made while it waits
 * has a deadline no earlier than the end of the wait.
 */
export function lookAgainMs(timeoutMs: number | null): number {
  return Math.min(MAX_WAIT_MS, timeoutMs ?? Infinity);
}

export interface TaskWorkflowInput {
  readonly task: string;
}

/** What one look at the task found. */
interface Observation {
  readonly status: TaskStatus | 'deleted';
  readonly attempt: number;
  /** The attempt waits for its environment's create_env hook. */
  readonly needsEnv?: boolean;
  /** How long to wait for a change before looking again. */
  readonly waitMs: number;
  /** A final task whose sender asked to be told (`notify_workflow`), and what to tell it. */
  readonly notify?: { readonly workflow: string; readonly outcome: TaskOutcome };
  /** A final task's outcome, published as the event `task.<status>`. */
  readonly outcome?: TaskOutcome;
}

/** What a `notify_workflow` receives when its task ends (signal `task:<task id>`). */
export interface TaskOutcome {
  readonly task: string;
  readonly type: string;
  readonly status: TaskStatus;
  readonly result: string | null;
  readonly error: string | null;
  readonly session: string | null;
  readonly attempt: number;
}

/**
 * Publishes an event to the YAML workflows that subscribe. A failure is logged, never the task's:
 * the task has ended whatever its subscribers do.
 */
export async function publish(
  ctx: ArchitectContext,
  emit: NonNullable<ArchitectContext['events']['emit']>,
  event: string,
  data: unknown,
  key: string,
): Promise<void> {
  try {
    await emit(event, data, key);
  } catch (err) {
    ctx.log.warn(
      { event, key, err: (err as Error).message },
      'could not start the workflows an Architect event triggers',
    );
  }
}

/**
 * Signals the workflow that asked to hear of the task's end. Idempotent (keyed by the task): a
 * repeat after a crash stores nothing new. A workflow that is gone or done is not an error of the task.
 */
async function notifyWorkflow(
  ctx: ArchitectContext,
  n: { readonly workflow: string; readonly outcome: TaskOutcome },
): Promise<void> {
  try {
    await ctx.client.signal(n.workflow, `task:${n.outcome.task}`, n.outcome, {
      idempotencyKey: `task:${n.outcome.task}:end`,
    });
  } catch (err) {
    ctx.log.warn(
      { task: n.outcome.task, workflow: n.workflow, err: (err as Error).message },
      'could not tell the workflow the task ended',
    );
  }
}

export function defineTaskWorkflow(ctx: ArchitectContext): WorkflowDefinition<TaskWorkflowInput> {
  return defineWorkflow<TaskWorkflowInput>(TASK_WORKFLOW, { queue: ARCHITECT_QUEUE }, async (wf, input) => {
    const id = input.task;
    for (let i = 0; i < ITERATIONS_PER_RUN; i++) {
      const seen = await wf.step(`observe-${i}`, () => observe(ctx, id));
      if (seen.status === 'deleted' || isFinal(seen.status)) {
        if (seen.notify) await wf.step('notify', () => notifyWorkflow(ctx, seen.notify!));
        const emit = ctx.events.emit;
        if (seen.outcome && emit) {
          const o = seen.outcome;
          await wf.step('event', () =>
            publish(ctx, emit, `task.${o.status}`, o, `task:${o.task}:${o.attempt}`),
          );
        }
        return { status: seen.status };
      }
      if (seen.needsEnv) {
        await wf.step(`create-env-${seen.attempt}`, () => createEnvironment(ctx, id, seen.attempt));
        continue;
      }
      await wf.waitForSignal(CHANGED_SIGNAL, { timeout: seen.waitMs });
    }
    return wf.continueAsNew(input);
  });
}

/**
 * Reads the task and acts on what it finds: a passed deadline ends the attempt (timed_out, then
 * the timeout_exceeded rule); a pending task asks the dispatcher to serve the queue; an ended task
 * is finished (port, alerts, merge_pr). Safe to run twice: each change is conditional on the row as
 * it is now.
 *
 * Assignments wake no workflow: a pending task's workflow looks again within its timeout (see
 * lookAgainMs), so no deadline is missed.
 */
async function observe(ctx: ArchitectContext, id: string): Promise<Observation> {
  const { routing } = ctx.rules();
  const now = ctx.now();
  // The common case reads the row and, for a pending task, nudges the dispatcher, in one statement;
  // only a passed deadline takes the locked path.
  const [seen] = await ctx.driver.query<TaskRow>(
    `SELECT ${TASK_COLUMNS}, CASE WHEN status = 'pending' THEN pg_notify($2, id) END AS nudged
     FROM baton.architect_tasks WHERE id = $1`,
    [id, DISPATCH_CHANNEL],
    'architect_observe',
  );
  const expired = (r: TaskRow | undefined): r is TaskRow =>
    !!r &&
    (r.status === 'assigned' || r.status === 'running') &&
    r.deadline_at !== null &&
    now >= r.deadline_at;
  const row = !expired(seen)
    ? seen
    : await ctx.driver.transaction(async (tx) => {
        const locked = await readTask(tx, id, true);
        if (!expired(locked)) return locked;
        const minutes = (locked.timeout_ms ?? 0) / 60_000;
        await endBadAttempt(
          tx,
          locked,
          'timed_out',
          `no outcome from ${locked.assigned_session} within ${minutes} min (attempt ${locked.attempt})`,
          reassignPolicy(routing, locked.spec),
          now,
        );
        await tx.query('SELECT pg_notify($1, $2)', [DISPATCH_CHANNEL, locked.assigned_session]);
        return readTask(tx, id);
      });
  if (!row) return { status: 'deleted', attempt: 0, waitMs: 0 };
  if (isFinal(row.status)) {
    await finish(ctx, row);
    ctx.taskEnded.emit();
    const workflow = row.spec.notify_workflow;
    const outcome: TaskOutcome = {
      task: row.id,
      type: row.type,
      status: row.status,
      result: row.result,
      error: row.error,
      session: row.assigned_session,
      attempt: row.attempt,
    };
    return {
      status: row.status,
      attempt: row.attempt,
      waitMs: 0,
      outcome,
      ...(workflow ? { notify: { workflow, outcome } } : {}),
    };
  }
  if (row.status === 'pending')
    return { status: 'pending', attempt: row.attempt, waitMs: lookAgainMs(row.timeout_ms) };
  if (row.status === 'assigned' && !row.env_ready)
    return { status: row.status, attempt: row.attempt, needsEnv: true, waitMs: 0 };
  const waitMs =
    row.deadline_at === null ? MAX_WAIT_MS : Math.min(MAX_WAIT_MS, Math.max(0, row.deadline_at - now) + 5);
  return { status: row.status, attempt: row.attempt, waitMs };
}

/** Runs the create_env hook for the attempt; on success the session may start the task. */
async function createEnvironment(ctx: ArchitectContext, id: string, attempt: number): Promise<void> {
  const row = await readTask(ctx.driver, id);
  if (!row || row.attempt !== attempt || row.status !== 'assigned' || row.env_ready) return;
  const needs = environmentNeeds(ctx.rules().routing, row.type);
  const outcome = needs.createHook
    ? await runHook('create_env', needs.createHook, taskView(row), {
        timeoutMs: needs.hookTimeoutMs,
        cwd: row.spec.working_dir,
      })
    : { ok: true, summary: 'no create_env hook configured' };
  const now = ctx.now();
  await ctx.driver.transaction(async (tx) => {
    const locked = await readTask(tx, id, true);
    if (!locked || locked.attempt !== attempt || locked.status !== 'assigned') return;
    if (outcome.ok) {
      await updateTask(tx, id, { env_ready: true });
      await recordEvents(tx, now, [
        {
          task: id,
          event: 'hook',
          attempt,
          session: locked.assigned_session,
          reason: `${outcome.summary} (port ${locked.port})`,
        },
      ]);
      await tx.query('SELECT pg_notify($1, $2)', [SESSION_CHANNEL, locked.assigned_session]);
    } else {
      await endBadAttempt(
        tx,
        locked,
        'failed',
        outcome.summary,
        reassignPolicy(ctx.rules().routing, locked.spec),
        now,
      );
    }
  });
}

/** The task (as just read) ended: free its port, clear its SLA alert, run merge_pr if it completed. */
async function finish(ctx: ArchitectContext, row: TaskRow): Promise<void> {
  const id = row.id;
  const needs = environmentNeeds(ctx.rules().routing, row.type);
  const outcome =
    row.status === 'completed' && needs.mergeHook
      ? await runHook('merge_pr', needs.mergeHook, taskView(row), {
          timeoutMs: needs.hookTimeoutMs,
          cwd: row.spec.working_dir,
        })
      : undefined;
  const now = ctx.now();
  // Every way a task ends frees its port in the same transaction; this is the safety net, and it
  // clears a standing SLA alert without waiting for the monitor. Most tasks need neither.
  if (row.port !== null || row.sla_severity !== null)
    await ctx.driver.query(
      `WITH freed AS (DELETE FROM baton.architect_port_leases WHERE task_id = $1)
       UPDATE baton.architect_alerts SET cleared_at = $2 WHERE task_id = $1 AND cleared_at IS NULL`,
      [id, now],
      'architect_finish',
    );
  if (outcome)
    await recordEvents(ctx.driver, now, [
      {
        task: id,
        event: 'hook',
        attempt: row.attempt,
        session: row.assigned_session,
        reason: outcome.summary,
      },
    ]);
}
