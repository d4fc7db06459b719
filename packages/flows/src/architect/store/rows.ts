// The Architect's rows as read from the database, and the shapes the router, the SLA clock and the
// CLI take from them.
import type { SessionStatus, TaskForRouting, TaskSpec } from '../model.js';
import type { SlaPause } from '../sla/clock.js';
import type { SlaTask } from '../sla/evaluate.js';

/** A task's status. `pending` waits for a session (GAIA_GO's name); the last three are final. */
export const TASK_STATUSES = ['pending', 'assigned', 'running', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export function isFinal(status: string): boolean {
  return status === 'completed' || status === 'failed' || status === 'cancelled';
}

/** One row of baton.architect_tasks. */
export interface TaskRow {
  id: string;
  type: string;
  prompt: string;
  priority: number;
  spec: TaskSpec;
  status: TaskStatus;
  assigned_session: string | null;
  attempt: number;
  retry_count: number;
  reassignments: number;
  avoid_sessions: string[];
  service_key: number;
  timeout_ms: number | null;
  max_retries: number;
  created_at: number;
  assigned_at: number | null;
  started_at: number | null;
  ended_at: number | null;
  deadline_at: number | null;
  port: number | null;
  env_ready: boolean;
  result: string | null;
  error: string | null;
  pauses: SlaPause[];
  sla_severity: string | null;
  queued_reason: string | null;
  workflow_id: string;
}

/** The columns of {@link TaskRow}, for SELECT and RETURNING. */
export const TASK_COLUMNS = `id, type, prompt, priority, spec, status, assigned_session, attempt, retry_count,
  reassignments, avoid_sessions, service_key, timeout_ms, max_retries, created_at, assigned_at, started_at,
  ended_at, deadline_at, port, env_ready, result, error, pauses, sla_severity, queued_reason, workflow_id`;

/** A session's stored state; `active` is idle or busy, by the tasks it holds. */
export const SESSION_STATES = ['active', 'waiting_input', 'draining', 'offline', 'stale'] as const;
export type SessionState = (typeof SESSION_STATES)[number];

/** One row of baton.architect_sessions. */
export interface SessionRow {
  name: string;
  provider: string;
  capacity: number;
  state: SessionState;
  adapter: string;
  holder: string;
  working_dir: string | null;
  git_branch: string | null;
  registered_at: number;
  last_heartbeat: number;
  last_assigned_at: number;
  assigned_total: number;
  note: string | null;
}

export const SESSION_COLUMNS = `name, provider, capacity, state, adapter, holder, working_dir, git_branch,
  registered_at, last_heartbeat, last_assigned_at, assigned_total, note`;

/** The status the router and the CLI show for a session holding `held` tasks. */
export function sessionStatus(state: SessionState, held: number): SessionStatus {
  if (state === 'active') return held > 0 ? 'busy' : 'idle';
  return state;
}

export function toTaskForRouting(row: TaskRow): TaskForRouting {
  return {
    ...row.spec,
    type: row.type,
    prompt: row.prompt,
    priority: row.priority,
    id: row.id,
    created_at: row.created_at,
    avoid_sessions: row.avoid_sessions,
  };
}

export function toSlaTask(row: TaskRow): SlaTask {
  return {
    id: row.id,
    type: row.type,
    priority: row.priority,
    status: row.status,
    session: row.assigned_session ?? undefined,
    created_at: row.created_at,
    started_at: row.started_at ?? undefined,
    ended_at: row.ended_at ?? undefined,
    pauses: row.pauses,
  };
}

/** Epoch ms as ISO text for people and JSON output; null stays null. */
export function iso(ms: number | null | undefined): string | null {
  return ms === null || ms === undefined ? null : new Date(ms).toISOString();
}
