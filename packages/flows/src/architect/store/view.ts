// Tasks and sessions as `baton tasks show --json`, `baton sessions list --json` and the library
// return them: times as ISO text, the metadata grouped, the history with its reasons.
import type { SessionStatus } from '../model.js';
import type { HistoryRow } from './events.js';
import { iso, sessionStatus, type SessionRow, type TaskRow, type TaskStatus } from './rows.js';

export interface TaskHistoryEntry {
  readonly at: string;
  readonly event: string;
  readonly session: string | null;
  readonly attempt: number;
  readonly reason: string;
}

export interface TaskView {
  readonly id: string;
  readonly type: string;
  readonly prompt: string;
  readonly priority: number;
  readonly status: TaskStatus;
  readonly assigned_session: string | null;
  readonly attempt: number;
  readonly retry_count: number;
  readonly max_retries: number;
  readonly reassignments: number;
  readonly timeout_minutes: number | null;
  readonly port: number | null;
  readonly paused: boolean;
  readonly waiting_because: string | null;
  readonly result: string | null;
  readonly error: string | null;
  readonly created_at: string;
  readonly assigned_at: string | null;
  readonly started_at: string | null;
  readonly ended_at: string | null;
  readonly deadline_at: string | null;
  readonly target_session: string | null;
  readonly target_provider: string | null;
  readonly metadata: {
    readonly working_dir: string | null;
    readonly git_branch: string | null;
    readonly project: string | null;
    readonly env: Readonly<Record<string, string>>;
  };
  readonly workflow_id: string;
  readonly history?: readonly TaskHistoryEntry[];
}

export function taskView(row: TaskRow, history?: readonly HistoryRow[]): TaskView {
  const spec = row.spec;
  return {
    id: row.id,
    type: row.type,
    prompt: row.prompt,
    priority: row.priority,
    status: row.status,
    assigned_session: row.assigned_session,
    attempt: row.attempt,
    retry_count: row.retry_count,
    max_retries: row.max_retries,
    reassignments: row.reassignments,
    timeout_minutes: row.timeout_ms === null ? null : row.timeout_ms / 60_000,
    port: row.port,
    paused: row.pauses.some((p) => p.to === undefined),
    waiting_because: row.status === 'pending' ? row.queued_reason : null,
    result: row.result,
    error: row.error,
    created_at: iso(row.created_at)!,
    assigned_at: iso(row.assigned_at),
    started_at: iso(row.started_at),
    ended_at: iso(row.ended_at),
    deadline_at: iso(row.deadline_at),
    target_session: spec.target_session ?? null,
    target_provider: spec.target_provider ?? null,
    metadata: {
      working_dir: spec.working_dir ?? null,
      git_branch: spec.git_branch ?? null,
      project: spec.project ?? null,
      env: spec.env ?? {},
    },
    workflow_id: row.workflow_id,
    ...(history && {
      history: history.map((h) => ({
        at: iso(h.at)!,
        event: h.event,
        session: h.session,
        attempt: h.attempt,
        reason: h.reason,
      })),
    }),
  };
}

export interface SessionView {
  readonly name: string;
  readonly provider: string;
  readonly status: SessionStatus;
  readonly capacity: number;
  readonly current_tasks: readonly string[];
  readonly adapter: string;
  readonly working_dir: string | null;
  readonly git_branch: string | null;
  readonly registered_at: string;
  readonly last_heartbeat: string;
  readonly last_assigned_at: string | null;
  readonly assigned_total: number;
  readonly note: string | null;
}

export function sessionView(row: SessionRow, tasks: readonly string[]): SessionView {
  return {
    name: row.name,
    provider: row.provider,
    status: sessionStatus(row.state, tasks.length),
    capacity: row.capacity,
    current_tasks: tasks,
    adapter: row.adapter,
    working_dir: row.working_dir,
    git_branch: row.git_branch,
    registered_at: iso(row.registered_at)!,
    last_heartbeat: iso(row.last_heartbeat)!,
    last_assigned_at: row.last_assigned_at > 0 ? iso(row.last_assigned_at) : null,
    assigned_total: row.assigned_total,
    note: row.note,
  };
}
