// The session registry: agent sessions register, heartbeat, take the tasks assigned to them and
// report each outcome. A session is held by the process that registered it; another live process
// cannot take its name, and a session that stops heartbeating goes stale and gives its tasks back.
import { hostname } from 'node:os';
import { BatonError, checkStorable, checkText, nearest, newId, signalSql, type Queryable } from '@baton/core';
import {
  type ArchitectContext,
  CHANGED_SIGNAL,
  DISPATCH_CHANNEL,
  SESSION_CHANNEL,
  wakeWorkflows,
} from './context.js';
import { reassignPolicy } from './task-rules.js';
import { recordEvents } from './store/events.js';
import { releasePorts } from './store/ports.js';
import type { DispatchPass } from './store/dispatch.js';
import {
  SESSION_COLUMNS,
  TASK_COLUMNS,
  isFinal,
  type SessionRow,
  type SessionState,
  type TaskRow,
} from './store/rows.js';
import { endBadAttempt, requeueHeld, requireTask, updateTask } from './store/task-sql.js';
import { sessionView, taskView, type SessionView, type TaskView } from './store/view.js';

export interface RegisterOptions {
  readonly name: string;
  readonly provider: string;
  /** Tasks it may hold at once (default 1). */
  readonly capacity?: number;
  /** How work reaches it: `client`, `command` or `tmux` (shown in `baton sessions list`). */
  readonly adapter?: string;
  readonly working_dir?: string;
  readonly git_branch?: string;
}

/** A registered session, as its process holds it. */
export interface SessionLease {
  readonly name: string;
  /** Proves the process holds the session: heartbeats, takes and outcomes carry it. */
  readonly holder: string;
}

/** What a heartbeat reports besides being alive. */
export interface HeartbeatReport {
  /** `waiting_input`: the agent waits on an approval prompt (it is given no work until answered). */
  readonly state?: 'active' | 'waiting_input';
  /** What it waits on (the prompt's text), for `baton sessions show` and SLA rules. */
  readonly note?: string | null;
}

/** Minutes without a heartbeat before a session is stale, when routing_rules.yaml does not say. */
export const DEFAULT_STALE_MINUTES = 5;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_.:-]{0,99}$/;
/** The longest name looked up: longer than any valid one, so a typo still gets its did-you-mean. */
const SESSION_NAME_MAX = 1000;

/** An outcome's task id and text, checked before they reach a statement (E_INVALID_OPTION). */
function checkOutcome(taskId: string, text: string, what: 'result' | 'error'): void {
  checkStorable(taskId, 'task id');
  checkStorable(text, `the task's ${what}`);
}

/** The session's holder check ($1 its name, $2 the holder): the CTE `me`, empty for another holder. */
const HOLDER_CTE = 'me AS (SELECT 1 FROM baton.architect_sessions WHERE name = $1 AND holder = $2)';

/**
 * The CTE `taken`: the session's oldest task whose environment is ready, now running, with its
 * `started` event ($1 the session; `now` the parameter with the time). With `after`, only once that
 * CTE returned a row, and never the task it returned.
 */
function takeCtes(o: { now: string; after?: string }): string {
  const after = o.after
    ? ` AND EXISTS (SELECT 1 FROM ${o.after}) AND id NOT IN (SELECT id FROM ${o.after})`
    : '';
  return `taken AS (
         UPDATE baton.architect_tasks SET status = 'running', started_at = coalesce(started_at, ${o.now})
         WHERE id = (SELECT id FROM baton.architect_tasks
                     WHERE assigned_session = $1 AND status = 'assigned' AND env_ready AND EXISTS (SELECT 1 FROM me)${after}
                     ORDER BY assigned_at, id LIMIT 1 FOR UPDATE SKIP LOCKED)
         RETURNING ${TASK_COLUMNS}),
       taken_event AS (
         INSERT INTO baton.architect_task_events (task_id, at, event, session, attempt, reason)
         SELECT id, ${o.now}, 'started', $1, attempt, 'taken by ' || $1 FROM taken)`;
}

/**
 * The CTE `done`: task $3, held by session $1, completed with result $4 at $5; its port freed, its
 * event recorded and its workflow signalled ($6). Empty when the session does not hold the task.
 */
const COMPLETE_CTES = `done AS (
         UPDATE baton.architect_tasks SET status = 'completed', result = $4, ended_at = $5, deadline_at = NULL, error = NULL
         WHERE id = $3 AND assigned_session = $1 AND status IN ('assigned', 'running') AND EXISTS (SELECT 1 FROM me)
         RETURNING ${TASK_COLUMNS}),
       freed AS (DELETE FROM baton.architect_port_leases WHERE task_id IN (SELECT id FROM done)),
       done_event AS (
         INSERT INTO baton.architect_task_events (task_id, at, event, session, attempt, reason)
         SELECT id, $5, 'completed', $1, attempt, 'completed by ' || $1 FROM done),
       ${signalSql({ ids: 'SELECT workflow_id FROM done', name: '$6', payload: 'NULL::jsonb', key: 'NULL' })}`;

export class SessionRegistry {
  /**
   * @param dispatch Serves the queue (TaskService.dispatch); a session waiting for work runs it when
   *   tasks are pending, so sessions get work without a control plane running.
   */
  constructor(
    private readonly ctx: ArchitectContext,
    private readonly dispatch: (options: { onlyIfFree: boolean }) => Promise<DispatchPass>,
  ) {}

  staleAfterMs(): number {
    return (
      (this.ctx.rules().routing.health_monitoring?.stale_threshold_minutes ?? DEFAULT_STALE_MINUTES) * 60_000
    );
  }

  /**
   * Registers (or re-registers) a session for this process. Refused: a bad name or capacity, a
   * provider that supported_providers lacks, and a name another live process holds (its last
   * heartbeat is younger than the stale threshold). Taking over the name of a dead process gives
   * the tasks it had started back to the queue.
   */
  async register(options: RegisterOptions): Promise<SessionLease> {
    const { name, provider } = options;
    const capacity = options.capacity ?? 1;
    if (!NAME.test(name))
      throw new BatonError(
        'E_INVALID_OPTION',
        `session name '${name}' is not valid: use 1–100 letters, digits, and _ . : - (starting with a letter or digit)`,
      );
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 1000)
      throw new BatonError('E_INVALID_OPTION', `capacity must be an integer from 1 to 1000, not ${capacity}`);
    checkText(provider, 'provider', 200);
    for (const [what, value] of [
      ['adapter', options.adapter],
      ['working_dir', options.working_dir],
      ['git_branch', options.git_branch],
    ] as const)
      if (value !== undefined) checkStorable(value, what);
    const supported = this.ctx.rules().routing.supported_providers?.map((p) => p.name);
    if (supported && !supported.includes(provider)) {
      const guess = nearest(provider, supported);
      throw new BatonError(
        'E_INVALID_OPTION',
        `provider '${provider}' is not in routing_rules.yaml supported_providers (${supported.join(', ')})${guess ? `; did you mean '${guess}'?` : ''}`,
        { details: { provider } },
      );
    }
    const holder = `${hostname()}:${process.pid}:${newId().slice(-8)}`;
    const now = this.ctx.now();
    const woken = await this.ctx.driver.transaction(async (tx) => {
      const [old] = await tx.query<SessionRow>(
        `SELECT ${SESSION_COLUMNS} FROM baton.architect_sessions WHERE name = $1 FOR UPDATE`,
        [name],
      );
      let requeued: TaskRow[] = [];
      if (old) {
        const ageMs = now - old.last_heartbeat;
        const alive = old.state !== 'stale' && old.state !== 'offline' && ageMs < this.staleAfterMs();
        if (alive) {
          throw new BatonError(
            'E_INVALID_STATE',
            `session '${name}' is registered by another live process (${old.holder}, last heartbeat ${Math.round(ageMs / 1000)} s ago); pick another name, stop that process, or \`baton sessions remove ${name}\``,
            { details: { session: name } },
          );
        }
        requeued = await heldBy(tx, name, ['running']);
        await requeueHeld(
          tx,
          requeued,
          'requeued_stale',
          `session ${name} re-registered by another process; the old one had stopped`,
          now,
        );
      }
      await tx.query(
        `INSERT INTO baton.architect_sessions (name, provider, capacity, state, adapter, holder, working_dir, git_branch,
           registered_at, last_heartbeat)
         VALUES ($1, $2, $3, 'active', $4, $5, $6, $7, $8, $8)
         ON CONFLICT (name) DO UPDATE SET provider = EXCLUDED.provider, capacity = EXCLUDED.capacity, state = 'active',
           adapter = EXCLUDED.adapter, holder = EXCLUDED.holder, working_dir = EXCLUDED.working_dir,
           git_branch = EXCLUDED.git_branch, registered_at = EXCLUDED.registered_at,
           last_heartbeat = EXCLUDED.last_heartbeat, note = NULL`,
        [
          name,
          provider,
          capacity,
          options.adapter ?? 'client',
          holder,
          options.working_dir ?? null,
          options.git_branch ?? null,
          now,
        ],
      );
      await tx.query('SELECT pg_notify($1, $2)', [DISPATCH_CHANNEL, name]);
      return requeued.map((r) => r.workflow_id);
    });
    await wakeWorkflows(this.ctx, woken);
    return { name, holder };
  }

  /**
   * Records that the session is alive (and what it is doing). A stale session that heartbeats again
   * is active again; its old tasks have gone back to the queue. E_INVALID_STATE when another process
   * has taken the name since, or the session was removed: the caller should stop.
   */
  async heartbeat(lease: SessionLease, report: HeartbeatReport = {}): Promise<void> {
    if (typeof report.note === 'string') checkStorable(report.note, 'heartbeat note');
    const rows = await this.ctx.driver.query<{ state: SessionState }>(
      `UPDATE baton.architect_sessions SET last_heartbeat = $3,
         state = CASE WHEN state IN ('draining', 'offline') THEN state ELSE $4 END,
         note = CASE WHEN $5::boolean THEN $6 ELSE note END
       WHERE name = $1 AND holder = $2 RETURNING state`,
      [
        lease.name,
        lease.holder,
        this.ctx.now(),
        report.state ?? 'active',
        report.note !== undefined,
        report.note ?? null,
      ],
      'architect_heartbeat',
    );
    if (rows.length === 0) throw lost(lease.name);
  }

  /**
   * Takes the oldest task assigned to the session whose environment is ready: it is now `running`
   * (event `started`). Null when there is none.
   */
  async next(lease: SessionLease): Promise<TaskView | null> {
    // One statement: the holder check, the take and its event (sessions call this in a loop).
    const [r] = await this.ctx.driver.query<TaskRow & { holds: boolean }>(
      `WITH ${HOLDER_CTE}, ${takeCtes({ now: '$3' })}
       SELECT EXISTS (SELECT 1 FROM me) AS holds, taken.* FROM (SELECT 1) one LEFT JOIN taken ON true`,
      [lease.name, lease.holder, this.ctx.now()],
      'architect_take',
    );
    if (!r!.holds) throw lost(lease.name);
    if (r!.id === null) return null;
    const { holds: _holds, ...row } = r!;
    return taskView(row);
  }

  /**
   * Waits until the session has a task and takes it (see {@link next}), or returns null when
   * `signal` aborts. Woken by the dispatcher's NOTIFY; it also looks every `pollMs`.
   */
  async waitForTask(
    lease: SessionLease,
    options: { signal?: AbortSignal; pollMs?: number } = {},
  ): Promise<TaskView | null> {
    const poll = options.pollMs ?? 1000;
    let wake: (() => void) | undefined;
    const unlisten = await this.ctx.driver.listen(SESSION_CHANNEL, (payload) => {
      if (payload === lease.name) wake?.();
    });
    try {
      for (;;) {
        if (options.signal?.aborted) return null;
        const task = await this.next(lease);
        if (task) return task;
        // serves the queue when a task is pending (TaskService.dispatch checks first)
        if ((await this.dispatch({ onlyIfFree: true })).assignments.length > 0) {
          const assigned = await this.next(lease);
          if (assigned) return assigned;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, poll);
          const onAbort = (): void => done();
          options.signal?.addEventListener('abort', onAbort, { once: true });
          function done(): void {
            clearTimeout(timer);
            options.signal?.removeEventListener('abort', onAbort);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      }
    } finally {
      await unlisten();
    }
  }

  /** Reports that the session completed a task it holds. */
  async complete(lease: SessionLease, taskId: string, result = ''): Promise<TaskView> {
    checkOutcome(taskId, result, 'result');
    // One statement on the way that matters (the session holds the task): complete it, free its
    // port, record the event and signal the task's workflow, which wakes the dispatcher where it
    // runs (ArchitectContext.taskEnded). Anything else is diagnosed below.
    const [done] = await this.ctx.driver.query<TaskRow>(
      `WITH ${HOLDER_CTE}, ${COMPLETE_CTES} SELECT done.* FROM done`,
      [lease.name, lease.holder, taskId, result, this.ctx.now(), CHANGED_SIGNAL],
      'architect_complete',
    );
    // refused: the locked path says why (or completes it, if the task changed in between)
    if (!done) return this.completeLocked(lease, taskId, result);
    return taskView(done);
  }

  /**
   * Completes a task the session holds, as {@link complete}, and takes the session's next task, as
   * {@link next}, in one statement: what a session working through its tasks calls, one round trip
   * per task instead of two. `next` is null when no other task is ready for the session. A refused
   * completion throws as `complete` does and takes nothing.
   */
  async completeAndTakeNext(
    lease: SessionLease,
    taskId: string,
    result = '',
  ): Promise<{ completed: TaskView; next: TaskView | null }> {
    checkOutcome(taskId, result, 'result');
    const rows = await this.ctx.driver.query<TaskRow & { completed: boolean }>(
      `WITH ${HOLDER_CTE}, ${COMPLETE_CTES}, ${takeCtes({ now: '$5', after: 'done' })}
       SELECT true AS completed, done.* FROM done UNION ALL SELECT false, taken.* FROM taken`,
      [lease.name, lease.holder, taskId, result, this.ctx.now(), CHANGED_SIGNAL],
      'architect_complete_take',
    );
    const done = rows.find((r) => r.completed);
    // refused: the locked path says why, or completes the task if it changed in between
    if (!done) {
      const completed = await this.completeLocked(lease, taskId, result);
      return { completed, next: await this.next(lease) };
    }
    const next = rows.find((r) => !r.completed);
    const view = ({ completed: _c, ...row }: TaskRow & { completed: boolean }) => taskView(row);
    return { completed: view(done), next: next ? view(next) : null };
  }

  private completeLocked(lease: SessionLease, taskId: string, result: string): Promise<TaskView> {
    return this.outcome(lease, taskId, (tx, row, now) => completeHeld(tx, row, result, now));
  }

  /** Reports that a task the session holds failed: it is retried while retries remain, else failed. */
  async fail(lease: SessionLease, taskId: string, error: string): Promise<TaskView> {
    checkOutcome(taskId, error, 'error');
    const why = error.trim() || 'failed with no message';
    return this.outcome(lease, taskId, async (tx, row, now) => {
      await endBadAttempt(tx, row, 'failed', why, reassignPolicy(this.ctx.rules().routing, row.spec), now);
    });
  }

  /**
   * Checks that the outcome comes from the session holding the task, and only once: an outcome for a
   * task the session does not hold, or a second outcome, is refused and changes nothing. Then
   * applies it in the same transaction.
   */
  private async outcome(
    lease: SessionLease,
    taskId: string,
    apply: (tx: Queryable, row: TaskRow, now: number) => Promise<void>,
  ): Promise<TaskView> {
    const row = await this.ctx.driver.transaction(async (tx) => {
      const locked = await this.lockForOutcome(tx, lease, taskId);
      await apply(tx, locked, this.ctx.now());
      await tx.query('SELECT pg_notify($1, $2)', [DISPATCH_CHANNEL, lease.name]);
      return locked;
    });
    await wakeWorkflows(this.ctx, [row.workflow_id]);
    return taskView(await requireTask(this.ctx.driver, taskId, false));
  }

  /**
   * The task, locked, when `lease` may report its outcome; otherwise the error that says why not
   * (the process lost the session, the task ended already, another session holds it).
   */
  private async lockForOutcome(tx: Queryable, lease: SessionLease, taskId: string): Promise<TaskRow> {
    const name = lease.name;
    await this.checkHolder(tx, lease);
    const locked = await requireTask(tx, taskId);
    if (isFinal(locked.status)) {
      throw new BatonError(
        'E_INVALID_STATE',
        `task ${taskId} is already ${locked.status}; its outcome was reported before and a second one is refused`,
        { details: { task: taskId, status: locked.status } },
      );
    }
    if (locked.assigned_session !== name) {
      throw new BatonError(
        'E_INVALID_STATE',
        `session ${name} does not hold task ${taskId} (${locked.assigned_session ? `${locked.assigned_session} holds it` : `it is ${locked.status}`}); only the session holding a task reports its outcome`,
        { details: { task: taskId, session: name, holder: locked.assigned_session } },
      );
    }
    return locked;
  }

  private async checkHolder(tx: Queryable, lease: SessionLease): Promise<void> {
    const rows = await tx.query(
      'SELECT 1 FROM baton.architect_sessions WHERE name = $1 AND holder = $2',
      [lease.name, lease.holder],
      'architect_holder',
    );
    if (rows.length === 0) throw lost(lease.name);
  }

  /** Stops giving the session new tasks; it finishes those it holds. */
  async drain(name: string): Promise<SessionView> {
    await this.setState(name, 'draining');
    return this.show(name);
  }

  /** Ends a session registered by this process: it takes no more work; tasks it had not started go back to the queue. */
  async deregister(lease: SessionLease): Promise<void> {
    const now = this.ctx.now();
    const woken = await this.ctx.driver.transaction(async (tx) => {
      const rows = await tx.query(
        'UPDATE baton.architect_sessions SET state = $3 WHERE name = $1 AND holder = $2 RETURNING name',
        [lease.name, lease.holder, 'offline'],
      );
      if (rows.length === 0) return [];
      const held = await heldBy(tx, lease.name, ['assigned', 'running']);
      await requeueHeld(tx, held, 'reassigned', `session ${lease.name} stopped`, now);
      return held.map((r) => r.workflow_id);
    });
    await wakeWorkflows(this.ctx, woken);
  }

  /**
   * Removes a session. One that holds tasks is refused unless `force`, which sends them back to the
   * queue first.
   */
  async remove(name: string, options: { force?: boolean } = {}): Promise<void> {
    const now = this.ctx.now();
    const woken = await this.ctx.driver.transaction(async (tx) => {
      await this.requireSession(tx, name, true);
      const held = await heldBy(tx, name, ['assigned', 'running']);
      if (held.length > 0 && !options.force) {
        throw new BatonError(
          'E_INVALID_STATE',
          `session ${name} holds ${held.length} task${held.length === 1 ? '' : 's'} (${held.map((t) => t.id).join(', ')}); \`baton sessions drain ${name}\` lets it finish them, --force sends them back to the queue`,
          { details: { session: name, tasks: held.map((t) => t.id) } },
        );
      }
      await requeueHeld(tx, held, 'reassigned', `session ${name} was removed`, now);
      await tx.query('DELETE FROM baton.architect_sessions WHERE name = $1', [name]);
      return held.map((r) => r.workflow_id);
    });
    await wakeWorkflows(this.ctx, woken);
  }

  async list(): Promise<SessionView[]> {
    const rows = await this.ctx.driver.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM baton.architect_sessions ORDER BY name`,
    );
    const held = await this.ctx.driver.query<{ assigned_session: string; ids: string[] }>(
      `SELECT assigned_session, array_agg(id ORDER BY assigned_at) AS ids FROM baton.architect_tasks
       WHERE status IN ('assigned', 'running') GROUP BY assigned_session`,
    );
    const by = new Map(held.map((h) => [h.assigned_session, h.ids]));
    return rows.map((r) => sessionView(r, by.get(r.name) ?? []));
  }

  async show(name: string): Promise<SessionView> {
    const row = await this.requireSession(this.ctx.driver, name, false);
    const held = await heldBy(this.ctx.driver, name, ['assigned', 'running']);
    return sessionView(
      row,
      held.map((t) => t.id),
    );
  }

  /**
   * Marks sessions silent for longer than the stale threshold as stale and sends the tasks they
   * held back to the queue (`requeued_stale`); removes them when `auto_remove_stale`. Returns the
   * names marked.
   */
  async markStale(): Promise<string[]> {
    const now = this.ctx.now();
    const health = this.ctx.rules().routing.health_monitoring ?? {};
    const { names, woken } = await this.ctx.driver.transaction(async (tx) => {
      const stale = await tx.query<{ name: string }>(
        `UPDATE baton.architect_sessions SET state = 'stale'
         WHERE state IN ('active', 'waiting_input', 'draining') AND last_heartbeat < $1 RETURNING name`,
        [now - this.staleAfterMs()],
      );
      const names = stale.map((s) => s.name);
      const held = (await Promise.all(names.map((n) => heldBy(tx, n, ['assigned', 'running'])))).flat();
      for (const n of names) {
        const mine = held.filter((t) => t.assigned_session === n);
        await requeueHeld(
          tx,
          mine,
          'requeued_stale',
          `session ${n} sent no heartbeat for ${(this.staleAfterMs() / 60_000).toFixed(1)} min (stale)`,
          now,
        );
      }
      if (health.auto_remove_stale && names.length > 0)
        await tx.query('DELETE FROM baton.architect_sessions WHERE name = ANY($1::text[])', [names]);
      return { names, woken: held.map((t) => t.workflow_id) };
    });
    await wakeWorkflows(this.ctx, woken);
    return names;
  }

  private async setState(name: string, state: SessionState): Promise<void> {
    await this.ctx.driver.transaction(async (tx) => {
      await this.requireSession(tx, name, true);
      await tx.query('UPDATE baton.architect_sessions SET state = $2 WHERE name = $1', [name, state]);
    });
  }

  private async requireSession(db: Queryable, name: string, lock: boolean): Promise<SessionRow> {
    checkText(name, 'session name', SESSION_NAME_MAX);
    const [row] = await db.query<SessionRow>(
      `SELECT ${SESSION_COLUMNS} FROM baton.architect_sessions WHERE name = $1${lock ? ' FOR UPDATE' : ''}`,
      [name],
    );
    if (row) return row;
    const all = await db.query<{ name: string }>('SELECT name FROM baton.architect_sessions');
    const guess = nearest(
      name,
      all.map((r) => r.name),
    );
    throw new BatonError(
      'E_NOT_FOUND',
      `no session '${name}'${guess ? ` (did you mean '${guess}'?)` : ''}; \`baton sessions list\` shows them`,
      {
        details: { session: name },
      },
    );
  }
}

function lost(name: string): BatonError {
  return new BatonError(
    'E_INVALID_STATE',
    `this process no longer holds session ${name}: it was removed, or another process registered the name after this one went stale`,
    { details: { session: name } },
  );
}

function heldBy(db: Queryable, session: string, statuses: readonly string[]): Promise<TaskRow[]> {
  return db.query<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM baton.architect_tasks WHERE assigned_session = $1 AND status = ANY($2::text[])
     ORDER BY assigned_at FOR UPDATE`,
    [session, statuses],
  );
}

/** Completes a task its session holds (the locked path of `complete`). */
async function completeHeld(tx: Queryable, row: TaskRow, result: string, now: number): Promise<void> {
  await updateTask(tx, row.id, {
    status: 'completed',
    result,
    ended_at: now,
    deadline_at: null,
    error: null,
  });
  await releasePorts(tx, [row.id]);
  await recordEvents(tx, now, [
    {
      task: row.id,
      event: 'completed',
      attempt: row.attempt,
      session: row.assigned_session,
      reason: `completed by ${row.assigned_session}`,
    },
  ]);
}
