// Reading and changing task rows. Every change of a task's state locks its row first (FOR UPDATE),
// so two processes acting on one task are serialized, and the checks that follow see its latest
// state.
import { BatonError, checkStorable, nearest, type Queryable } from '@baton/core';
import type { ReassignPolicy } from '../task-rules.js';
import { afterBadAttempt } from '../transitions.js';
import { recordEvents, type EventRecord } from './events.js';
import { releasePorts } from './ports.js';
import { TASK_COLUMNS, type TaskRow } from './rows.js';

export async function readTask(db: Queryable, id: string, lock = false): Promise<TaskRow | undefined> {
  checkStorable(id, 'task id');
  const rows = await db.query<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM baton.architect_tasks WHERE id = $1${lock ? ' FOR UPDATE' : ''}`,
    [id],
    lock ? 'architect_task_lock' : 'architect_task_read',
  );
  return rows[0];
}

/** The task, locked, or E_NOT_FOUND with a did-you-mean among recent ids. */
export async function requireTask(tx: Queryable, id: string, lock = true): Promise<TaskRow> {
  const row = await readTask(tx, id, lock);
  if (row) return row;
  const recent = await tx.query<{ id: string }>(
    'SELECT id FROM baton.architect_tasks ORDER BY created_at DESC LIMIT 200',
  );
  const guess = nearest(
    id,
    recent.map((r) => r.id),
  );
  throw new BatonError(
    'E_NOT_FOUND',
    `no task '${id}'${guess ? ` (did you mean '${guess}'?)` : ''}; \`baton tasks list\` shows the tasks`,
    { details: { task: id } },
  );
}

type Changes = Partial<Omit<TaskRow, 'id'>>;

/** Writes `changes` to the task's row. */
export async function updateTask(tx: Queryable, id: string, changes: Changes): Promise<void> {
  const keys = Object.keys(changes) as (keyof Changes)[];
  if (keys.length === 0) return;
  const sets = keys.map((k, i) => `${k} = $${i + 2}`);
  const values = keys.map((k) => {
    const v = changes[k];
    return k === 'spec' || k === 'pauses' ? JSON.stringify(v) : v;
  });
  await tx.query(`UPDATE baton.architect_tasks SET ${sets.join(', ')} WHERE id = $1`, [id, ...values]);
}

/** The fields that take a task off its session and back to the queue. */
const BACK_TO_QUEUE = {
  status: 'pending',
  assigned_session: null,
  assigned_at: null,
  deadline_at: null,
  queued_reason: null,
} as const;

/**
 * Ends the attempt `row` holds after it timed out or failed: reassigns it to an alternate session,
 * retries it, or fails it (see afterBadAttempt), and records why. The caller has locked the row
 * and checked that the attempt is the current one.
 */
export async function endBadAttempt(
  tx: Queryable,
  row: TaskRow,
  outcome: 'timed_out' | 'failed',
  why: string,
  policy: ReassignPolicy,
  now: number,
): Promise<'reassigned' | 'retried' | 'failed'> {
  const session = row.assigned_session;
  const next = afterBadAttempt(policy, row, outcome, session);
  const events: EventRecord[] = [];
  if (outcome === 'timed_out')
    events.push({ task: row.id, event: 'timed_out', attempt: row.attempt, session, reason: why });
  if (next.kind === 'reassign') {
    const spec = next.target_session ? { ...row.spec, target_session: next.target_session } : row.spec;
    await updateTask(tx, row.id, {
      ...BACK_TO_QUEUE,
      reassignments: row.reassignments + 1,
      avoid_sessions: [...next.avoid_sessions],
      spec,
    });
    events.push({ task: row.id, event: 'reassigned', attempt: row.attempt, session, reason: next.reason });
  } else if (next.kind === 'retry') {
    await updateTask(tx, row.id, { ...BACK_TO_QUEUE, retry_count: row.retry_count + 1, avoid_sessions: [] });
    if (outcome === 'failed')
      events.push({
        task: row.id,
        event: 'failed',
        attempt: row.attempt,
        session,
        reason: `attempt failed: ${why}`,
      });
    events.push({ task: row.id, event: 'retried', attempt: row.attempt, session, reason: next.reason });
  } else {
    await updateTask(tx, row.id, { status: 'failed', ended_at: now, error: why, deadline_at: null });
    await releasePorts(tx, [row.id]);
    events.push({
      task: row.id,
      event: 'failed',
      attempt: row.attempt,
      session,
      reason: `${why} (${next.reason})`,
    });
  }
  await recordEvents(tx, now, events);
  return next.kind === 'reassign' ? 'reassigned' : next.kind === 'retry' ? 'retried' : 'failed';
}

/** Puts held tasks back in the queue (their session went stale or was removed), recording why. */
export async function requeueHeld(
  tx: Queryable,
  rows: readonly TaskRow[],
  event: 'requeued_stale' | 'reassigned',
  reason: string,
  now: number,
): Promise<void> {
  for (const row of rows) await updateTask(tx, row.id, BACK_TO_QUEUE);
  await recordEvents(
    tx,
    now,
    rows.map((r) => ({ task: r.id, event, attempt: r.attempt, session: r.assigned_session, reason })),
  );
}
