// The task verbs (GAIA_GO's assigner verbs, done right): send, show, list, explain, retry, reassign,
// cancel, clear, pause and resume. Every change is one transaction on the task's locked row, with an
// event that says why; the task's workflow is woken after the commit.
import { BatonError, checkText, checkStorable, newId, type Queryable } from '@baton/core';
import { checkTask } from './check-task.js';
import { type ArchitectContext, wakeWorkflows } from './context.js';

import { environmentNeeds } from './environment.js';
import { formatExplanation } from './explain.js';
import type { SessionForRouting, TaskSpec } from './model.js';
import type { RoutingRules } from '../config/kinds/routing-rules.js';
import { routeTask } from './route.js';
import { serviceKey } from './service-order.js';
import { queueLimit, reassignPolicy, taskSettings } from './task-rules.js';
import {
  anyPending,
  dispatch,
  loadSessions,
  routedNothing,
  type DispatchPass,
  type ServiceCursor,
} from './store/dispatch.js';
import { readHistory, recordEvents } from './store/events.js';
import { releasePorts } from './store/ports.js';
import {
  TASK_COLUMNS,
  TASK_STATUSES,
  isFinal,
  toTaskForRouting,
  type TaskRow,
  type TaskStatus,
} from './store/rows.js';
import { requireTask, updateTask } from './store/task-sql.js';
import { taskView, type TaskView } from './store/view.js';
import { checkTaskSpec } from './task-spec.js';
import { lookAgainMs, type TaskWorkflowStarter } from './workflow.js';

export interface ListTasksFilter {
  readonly status?: readonly TaskStatus[];
  readonly type?: string;
  readonly session?: string;
  readonly limit?: number;
}

export interface Explained {
  readonly task: TaskView;
  /** What the router would decide now (pending tasks), or null. */
  readonly decision: ReturnType<typeof routeTask> | null;
  /** The text `baton tasks explain` prints. */
  readonly text: string;
}

export class TaskService {
  constructor(
    private readonly ctx: ArchitectContext,
    private readonly startWorkflows: TaskWorkflowStarter,
  ) {}

  /**
   * Stores a task, routes it at once (serving the tasks ahead of it first) and starts its workflow.
   * Refused, with nothing stored: a malformed task, one the router can never place (unknown target
   * session, unsupported provider …) and a send past the queue's `max_queue_size`.
   */
  async send(input: TaskSpec, options: { id?: string } = {}): Promise<TaskView> {
    const [task] = await this.sendMany([input], options.id === undefined ? {} : { ids: [options.id] });
    return task!;
  }

  /**
   * Sends many tasks in one transaction with one routing pass: all of them or none (the first bad
   * one is refused with its index). For bulk submission; `send` is one task.
   */
  async sendMany(
    inputs: readonly TaskSpec[],
    options: { ids?: readonly string[] } = {},
  ): Promise<TaskView[]> {
    const { routing } = this.ctx.rules();
    // Only a target session is checked against the sessions before the insert (the dispatcher
    // reads them again under its lock): a send without one reads no session here.
    const sessions = inputs.some((t) => t?.target_session !== undefined)
      ? await loadSessions(this.ctx.driver)
      : undefined;
    const now = this.ctx.now();
    const rows = inputs.map((input, i) => {
      try {
        const id = options.ids?.[i] === undefined ? newId() : checkStorable(options.ids[i]!, 'task id');
        return newTaskRow(routing, sessions, checkTaskSpec(input), id, now);
      } catch (err) {
        if (inputs.length === 1 || !(err instanceof BatonError)) throw err;
        throw new BatonError(err.code, `task ${i}: ${err.message}`, {
          details: { ...err.details, index: i },
        });
      }
    });
    const limit = queueLimit(routing);
    await this.ctx.driver.transaction(async (tx) => {
      if (limit !== undefined) await refuseWhenFull(tx, limit, rows.length);
      await insertTasks(tx, rows);
      await recordEvents(
        tx,
        now,
        rows.map((r) => ({
          task: r.id,
          event: 'queued',
          attempt: 0,
          reason: `sent as ${r.type}, priority ${r.priority}`,
        })),
      );
      await this.startWorkflows(
        tx,
        rows.map((r) => ({ ...r, first_wait_ms: r.env_ready ? lookAgainMs(r.timeout_ms) : 0 })),
      );
      await dispatch(tx, routing, now);
    });
    if (rows.length === 1) return [await this.show(rows[0]!.id, { history: false })];
    const stored = await this.ctx.driver.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM baton.architect_tasks WHERE id = ANY($1::text[])`,
      [rows.map((r) => r.id)],
    );
    const byId = new Map(stored.map((r) => [r.id, r]));
    return rows.map((r) => taskView(byId.get(r.id) ?? r));
  }

  /**
   * Runs one dispatcher pass: pending tasks are served best first, from the head of the queue or
   * from `after`, reading at most `limit` (default DISPATCH_BATCH). With `onlyIfFree`, does nothing
   * while another dispatch runs. Assignments wake no workflow (see workflow.ts).
   */
  async dispatch(
    options: { onlyIfFree?: boolean; after?: ServiceCursor; limit?: number } = {},
  ): Promise<DispatchPass> {
    // Most wake-ups find nothing pending: one read then, instead of a transaction and the lock.
    if (!(await anyPending(this.ctx.driver))) return routedNothing('end');
    return this.ctx.driver.transaction((tx) =>
      dispatch(tx, this.ctx.rules().routing, this.ctx.now(), options),
    );
  }

  async show(id: string, options: { history?: boolean } = {}): Promise<TaskView> {
    const row = await requireTask(this.ctx.driver, id, false);
    return taskView(row, options.history === false ? undefined : await readHistory(this.ctx.driver, id));
  }

  async list(filter: ListTasksFilter = {}): Promise<TaskView[]> {
    for (const s of filter.status ?? []) {
      if (!(TASK_STATUSES as readonly string[]).includes(s))
        throw new BatonError(
          'E_INVALID_OPTION',
          `unknown task status '${s}'; one of ${TASK_STATUSES.join(', ')}`,
        );
    }
    const rows = await this.ctx.driver.query<TaskRow>(
      `SELECT ${TASK_COLUMNS} FROM baton.architect_tasks
       WHERE ($1::text[] IS NULL OR status = ANY($1)) AND ($2::text IS NULL OR type = $2)
         AND ($3::text IS NULL OR assigned_session = $3)
       ORDER BY created_at DESC, id DESC LIMIT $4`,
      [
        filter.status?.length ? filter.status : null,
        filter.type === undefined ? null : checkText(filter.type, 'task type', 1000),
        filter.session === undefined ? null : checkText(filter.session, 'session name', 1000),
        filter.limit ?? 100,
      ],
    );
    return rows.map((r) => taskView(r));
  }

  /**
   * Why the task is where it is: for a pending task, what the router decides now, each candidate
   * session and why it was or was not chosen; for the others, the decision that assigned it (from
   * the history) and its state.
   */
  async explain(id: string): Promise<Explained> {
    const row = await requireTask(this.ctx.driver, id, false);
    const history = await readHistory(this.ctx.driver, id);
    const task = taskView(row, history);
    const lines = [`task ${row.id} (${row.type}, priority ${row.priority}): ${row.status}`];
    let decision: Explained['decision'] = null;
    if (row.status === 'pending') {
      const sessions = await loadSessions(this.ctx.driver);
      decision = routeTask(this.ctx.rules().routing, sessions, toTaskForRouting(row), {
        now: this.ctx.now(),
        seed: row.id,
      });
      if (row.queued_reason) lines.push(`still pending because: ${row.queued_reason}`);
      if (decision.kind === 'assign')
        lines.push(
          'the next dispatch would assign it (a session has room now; `baton architect` dispatches):',
        );
      lines.push(formatExplanation(decision));
    } else {
      const assigned = history.filter((h) => h.event === 'assigned').at(-1);
      if (assigned)
        lines.push(`assigned to ${assigned.session} (attempt ${assigned.attempt}): ${assigned.reason}`);
      if (row.status === 'failed' || row.status === 'cancelled')
        lines.push(`${row.status}: ${row.error ?? ''}`.trim());
    }
    return { task, decision, text: lines.join('\n') };
  }

  /** Cancels a task that no session has started (pending or assigned), as GAIA_GO allows. */
  async cancel(id: string, reason = 'cancelled by the user'): Promise<TaskView> {
    checkStorable(reason, 'cancel reason');
    return this.change(id, async (tx, row, now) => {
      if (row.status !== 'pending' && row.status !== 'assigned') {
        throw new BatonError(
          'E_INVALID_STATE',
          `task ${id} is ${row.status}; only a pending or assigned task can be cancelled${row.status === 'running' ? ` (session ${row.assigned_session} has started it: \`baton tasks reassign ${id}\` takes it away)` : ''}`,
          { details: { task: id, status: row.status } },
        );
      }
      await updateTask(tx, id, { status: 'cancelled', ended_at: now, error: reason, deadline_at: null });
      await releasePorts(tx, [id]);
      await recordEvents(tx, now, [
        { task: id, event: 'cancelled', attempt: row.attempt, session: row.assigned_session, reason },
      ]);
    });
  }

  /**
   * Sends a failed or cancelled task again: back to pending with one more retry counted and a new
   * workflow. Refused for a task that has not ended.
   */
  async retry(id: string): Promise<TaskView> {
    await this.change(id, async (tx, row, now) => {
      if (row.status !== 'failed' && row.status !== 'cancelled') {
        throw new BatonError(
          'E_INVALID_STATE',
          `task ${id} is ${row.status}; only a failed or cancelled task can be retried`,
          {
            details: { task: id, status: row.status },
          },
        );
      }
      await this.requeueEnded(tx, row, now, 'retried by the user');
    });
    await this.dispatch();
    return this.show(id, { history: false });
  }

  /** Retries every failed task whose retries are not used up (retry_count < max_retries, as GAIA_GO). */
  async retryAllFailed(): Promise<TaskView[]> {
    const now = this.ctx.now();
    const rows = await this.ctx.driver.transaction(async (tx) => {
      const failed = await tx.query<TaskRow>(
        `SELECT ${TASK_COLUMNS} FROM baton.architect_tasks WHERE status = 'failed' AND retry_count < max_retries
         ORDER BY created_at FOR UPDATE`,
      );
      for (const row of failed)
        await this.requeueEnded(
          tx,
          row,
          now,
          `retried with --all-failed (${row.retry_count + 1} of ${row.max_retries})`,
        );
      return failed;
    });
    if (rows.length > 0) await this.dispatch();
    return Promise.all(rows.map((r) => this.show(r.id, { history: false })));
  }

  private async requeueEnded(tx: Queryable, row: TaskRow, now: number, reason: string): Promise<void> {
    await updateTask(tx, row.id, {
      status: 'pending',
      retry_count: row.retry_count + 1,
      assigned_session: null,
      assigned_at: null,
      deadline_at: null,
      ended_at: null,
      error: null,
      result: null,
      avoid_sessions: [],
      queued_reason: null,
      sla_severity: null,
      workflow_id: nextWorkflowId(row),
    });
    await this.startWorkflows(tx, [{ id: row.id, workflow_id: nextWorkflowId(row) }]);
    await recordEvents(tx, now, [{ task: row.id, event: 'retried', attempt: row.attempt, reason }]);
  }

  /**
   * Takes a task from its session and routes it again (GAIA_GO: back to pending, session cleared):
   * to `to` when given, else to any session but the one it had.
   */
  async reassign(id: string, options: { to?: string } = {}): Promise<TaskView> {
    const { routing } = this.ctx.rules();
    const view = await this.change(id, async (tx, row, now) => {
      if (isFinal(row.status))
        throw new BatonError(
          'E_INVALID_STATE',
          `task ${id} is ${row.status}; only an open task can be reassigned (\`baton tasks retry ${id}\` sends it again)`,
          {
            details: { task: id, status: row.status },
          },
        );
      const avoid =
        row.assigned_session && !options.to
          ? [...new Set([...row.avoid_sessions, row.assigned_session])]
          : row.avoid_sessions;
      const spec = options.to ? { ...row.spec, target_session: options.to } : row.spec;
      if (options.to) {
        const problem = checkTask(routing, { ...spec, avoid_sessions: avoid }, await loadSessions(tx));
        if (problem) throw new BatonError(problem.code, problem.message, { details: { task: id } });
      }
      await updateTask(tx, id, {
        status: 'pending',
        assigned_session: null,
        assigned_at: null,
        deadline_at: null,
        queued_reason: null,
        reassignments: row.reassignments + 1,
        avoid_sessions: avoid,
        spec,
      });
      const from = row.assigned_session ? ` from ${row.assigned_session}` : '';
      await recordEvents(tx, now, [
        {
          task: id,
          event: 'reassigned',
          attempt: row.attempt,
          session: row.assigned_session,
          reason: `reassigned by the user${from}${options.to ? ` to ${options.to}` : ''}`,
        },
      ]);
    });
    await this.dispatch();
    return view;
  }

  /** Stops (pause) or restarts (resume) a task's SLA clock; paused time is not counted. */
  async pause(id: string): Promise<TaskView> {
    return this.change(id, async (tx, row, now) => {
      if (isFinal(row.status))
        throw new BatonError(
          'E_INVALID_STATE',
          `task ${id} is ${row.status}; only an open task can be paused`,
        );
      if (row.pauses.some((p) => p.to === undefined))
        throw new BatonError(
          'E_INVALID_STATE',
          `task ${id} is already paused; \`baton tasks resume ${id}\` restarts its SLA clock`,
        );
      await updateTask(tx, id, { pauses: [...row.pauses, { from: now }] });
      await recordEvents(tx, now, [
        { task: id, event: 'paused', attempt: row.attempt, reason: 'SLA clock paused by the user' },
      ]);
    });
  }

  async resume(id: string): Promise<TaskView> {
    return this.change(id, async (tx, row, now) => {
      const open = row.pauses.findIndex((p) => p.to === undefined);
      if (open < 0) throw new BatonError('E_INVALID_STATE', `task ${id} is not paused`);
      const pauses = row.pauses.map((p, i) => (i === open ? { from: p.from, to: now } : p));
      await updateTask(tx, id, { pauses });
      const minutes = ((now - row.pauses[open]!.from) / 60_000).toFixed(1);
      await recordEvents(tx, now, [
        {
          task: id,
          event: 'resumed',
          attempt: row.attempt,
          reason: `SLA clock resumed after ${minutes} min paused`,
        },
      ]);
    });
  }

  /**
   * Deletes ended tasks that ended before `olderThanMs` ago, with their history: completed and
   * cancelled ones; failed ones only with `includeFailed` (they are what a user comes back to).
   */
  async clear(options: { olderThanMs?: number; includeFailed?: boolean } = {}): Promise<number> {
    const statuses = options.includeFailed
      ? ['completed', 'cancelled', 'failed']
      : ['completed', 'cancelled'];
    const cutoff = this.ctx.now() - (options.olderThanMs ?? 0);
    const rows = await this.ctx.driver.query<{ id: string }>(
      `DELETE FROM baton.architect_tasks WHERE status = ANY($1::text[]) AND ended_at <= $2 RETURNING id`,
      [statuses, cutoff],
    );
    return rows.length;
  }

  /** Locks the task, runs `fn` on it, commits, wakes its workflow and returns it as it is now. */
  private async change(
    id: string,
    fn: (tx: Queryable, row: TaskRow, now: number) => Promise<void>,
  ): Promise<TaskView> {
    const row = await this.ctx.driver.transaction(async (tx) => {
      const locked = await requireTask(tx, id);
      await fn(tx, locked, this.ctx.now());
      return locked;
    });
    await wakeWorkflows(this.ctx, [row.workflow_id]);
    return this.show(id, { history: false });
  }
}

/** A new workflow id for a task sent again after it ended (the old workflow has finished). */
function nextWorkflowId(row: TaskRow): string {
  return `architect-task:${row.id}:${row.retry_count + 1}`;
}

async function refuseWhenFull(tx: Queryable, limit: number, adding: number): Promise<void> {
  const [r] = await tx.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM baton.architect_tasks WHERE status = 'pending'`,
  );
  if (r!.n + adding > limit) {
    throw new BatonError(
      'E_INVALID_STATE',
      `the task queue is full: ${r!.n} tasks are pending${adding > 1 ? ` (sending ${adding} more)` : ''} and no_sessions_available.max_queue_size is ${limit}; wait for sessions to take some, add sessions, or raise max_queue_size in routing_rules.yaml`,
      { details: { pending: r!.n, max_queue_size: limit } },
    );
  }
}

async function insertTasks(tx: Queryable, rows: readonly TaskRow[]): Promise<void> {
  await tx.query(
    `INSERT INTO baton.architect_tasks (id, type, prompt, priority, spec, status, service_key, timeout_ms,
       max_retries, created_at, env_ready, workflow_id)
     SELECT id, type, prompt, priority, spec, 'pending', service_key, timeout_ms, max_retries, created_at, env_ready,
            workflow_id
     FROM unnest($1::text[], $2::text[], $3::text[], $4::int[], $5::jsonb[], $6::float8[], $7::float8[], $8::int[],
                 $9::float8[], $10::boolean[], $11::text[])
          AS t(id, type, prompt, priority, spec, service_key, timeout_ms, max_retries, created_at, env_ready, workflow_id)`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.type),
      rows.map((r) => r.prompt),
      rows.map((r) => r.priority),
      rows.map((r) => JSON.stringify(r.spec)),
      rows.map((r) => r.service_key),
      rows.map((r) => r.timeout_ms),
      rows.map((r) => r.max_retries),
      rows.map((r) => r.created_at),
      rows.map((r) => r.env_ready),
      rows.map((r) => r.workflow_id),
    ],
    'architect_insert_tasks',
  );
}

/** A new task's row, or the router's reason it can never be placed (E_INVALID_OPTION / E_NOT_FOUND). */
function newTaskRow(
  routing: RoutingRules,
  sessions: readonly SessionForRouting[] | undefined,
  spec: TaskSpec,
  id: string,
  now: number,
): TaskRow {
  const problem = checkTask(routing, spec, sessions);
  if (problem) throw new BatonError(problem.code, problem.message, { details: { type: spec.type } });
  const settings = taskSettings(routing, spec);
  return {
    id,
    type: spec.type,
    prompt: spec.prompt,
    priority: settings.priority,
    spec,
    status: 'pending',
    assigned_session: null,
    attempt: 0,
    retry_count: 0,
    reassignments: 0,
    avoid_sessions: [],
    service_key: serviceKey({ priority: settings.priority, created_at: now }),
    timeout_ms: settings.timeout_minutes === undefined ? null : settings.timeout_minutes * 60_000,
    max_retries: reassignPolicy(routing, spec).maxRetries,
    created_at: now,
    assigned_at: null,
    started_at: null,
    ended_at: null,
    deadline_at: null,
    port: null,
    env_ready: environmentNeeds(routing, spec.type).createHook === undefined,
    result: null,
    error: null,
    pauses: [],
    sla_severity: null,
    queued_reason: null,
    workflow_id: `architect-task:${id}`,
  };
}
