// The assignment history: one row per event, each with its reason (GAIA_GO recorded reasons for only
// some events, and never recorded timeouts, retries or reassignments).
import type { Queryable } from '@baton/core';

export const TASK_EVENTS = [
  'queued',
  'assigned',
  'started',
  'completed',
  'failed',
  'timed_out',
  'reassigned',
  'retried',
  'throttled',
  'cancelled',
  'requeued_stale',
  'paused',
  'resumed',
  'hook',
] as const;
export type TaskEvent = (typeof TASK_EVENTS)[number];

export interface EventRecord {
  readonly task: string;
  readonly event: TaskEvent;
  readonly attempt: number;
  readonly reason: string;
  readonly session?: string | null;
}

/** Appends events to the history in one statement (in the caller's transaction). */
export async function recordEvents(tx: Queryable, at: number, events: readonly EventRecord[]): Promise<void> {
  if (events.length === 0) return;
  await tx.query(
    `INSERT INTO baton.architect_task_events (task_id, at, event, session, attempt, reason)
     SELECT * FROM unnest($1::text[], $2::float8[], $3::text[], $4::text[], $5::int[], $6::text[])`,
    [
      events.map((e) => e.task),
      events.map(() => at),
      events.map((e) => e.event),
      events.map((e) => e.session ?? null),
      events.map((e) => e.attempt),
      events.map((e) => e.reason),
    ],
    'architect_events',
  );
}

/** One history row as shown by `baton tasks show`. */
export interface HistoryRow {
  at: number;
  event: TaskEvent;
  session: string | null;
  attempt: number;
  reason: string;
}

export function readHistory(db: Queryable, taskId: string): Promise<HistoryRow[]> {
  return db.query<HistoryRow>(
    `SELECT at, event, session, attempt, reason FROM baton.architect_task_events WHERE task_id = $1 ORDER BY id`,
    [taskId],
  );
}
