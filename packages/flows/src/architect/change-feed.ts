// The Architect's side of the change feed: tasks, sessions and alerts, as its triggers (architect
// migration 3) announce them on `baton_architect_events`, one JSON object per line.

import type { FeedTrigger } from '@baton/core';

export const ARCHITECT_CHANGES_CHANNEL = 'baton_architect_events';

const EVENTS = {
  INSERT: { done: 'inserted', rows: 'NEW TABLE AS new_rows' },
  UPDATE: { done: 'updated', rows: 'OLD TABLE AS old_rows NEW TABLE AS new_rows' },
  DELETE: { done: 'deleted', rows: 'OLD TABLE AS old_rows' },
} as const;

const feedTrigger = (table: string, event: keyof typeof EVENTS): FeedTrigger => ({
  name: `${table}_${EVENTS[event].done}_feed`,
  table,
  definition: `AFTER ${event} ON baton.${table} REFERENCING ${EVENTS[event].rows}
    FOR EACH STATEMENT EXECUTE FUNCTION baton.publish_architect_changes()`,
});

/** The triggers a server running the Architect adds to the change feed (core's ChangeFeed creates and drops them). */
export const ARCHITECT_FEED_TRIGGERS: readonly FeedTrigger[] = [
  feedTrigger('architect_tasks', 'INSERT'),
  feedTrigger('architect_tasks', 'UPDATE'),
  feedTrigger('architect_sessions', 'INSERT'),
  feedTrigger('architect_sessions', 'UPDATE'),
  feedTrigger('architect_sessions', 'DELETE'),
  feedTrigger('architect_alerts', 'INSERT'),
  feedTrigger('architect_alerts', 'UPDATE'),
];

/** A task whose status or session changed, a session whose state changed, an alert raised, acknowledged or cleared. */
export interface ArchitectChange {
  type: 'task' | 'session' | 'alert';
  /** The task id, the session name, or the alert id. */
  id: string;
  /** The task's status, the session's state (`removed` when it left), or the alert's (`open`, `acknowledged`, `cleared`). */
  status: string;
  /** Tasks: `taskType`, `session`. Alerts: `severity`, `task`. */
  [field: string]: unknown;
}

const TYPES = new Set(['task', 'session', 'alert']);

/** Parses one NOTIFY payload; lines that are not a change are skipped. */
export function parseArchitectChanges(payload: string): ArchitectChange[] {
  const out: ArchitectChange[] = [];
  for (const line of payload.split('\n')) {
    try {
      const v = JSON.parse(line) as Partial<ArchitectChange>;
      if (TYPES.has(v.type as string) && typeof v.id === 'string' && typeof v.status === 'string')
        out.push(v as ArchitectChange);
    } catch {
      // not a change
    }
  }
  return out;
}
