// The Architect's model (seed 003): typed tasks routed to agent sessions. These are the shapes the
// router, the SLA monitor, the session adapters and the durable task workflow share.

/** What a session is doing, as the router sees it. A session waiting for input (an approval prompt) is never idle. */
export const SESSION_STATUSES = ['idle', 'busy', 'waiting_input', 'offline', 'stale', 'draining'] as const;
export type SessionStatus = (typeof SESSION_STATUSES)[number];

/** A task as a user sends it (`baton tasks send`). */
export interface TaskSpec {
  /** The task type, a key of `routing_rules.environment_routing` (an unknown type goes to the default rule). */
  readonly type: string;
  readonly prompt: string;
  /** 0 (lowest) to 10 (highest); default: the type's rule's priority, else 5. */
  readonly priority?: number;
  /** Only this session may take it. */
  readonly target_session?: string;
  /** Only sessions of this provider may take it (unless fallback is allowed). */
  readonly target_provider?: string;
  /** Providers to prefer, in order. */
  readonly preferred_providers?: readonly string[];
  /** Providers acceptable when the preferred ones cannot take it, in order (with allow_fallback). */
  readonly fallback_providers?: readonly string[];
  readonly allow_fallback?: boolean;
  /** Minutes an assignment may run before it times out; default: the rule's timeout_minutes. */
  readonly timeout_minutes?: number;
  /** Retries after a failed or timed-out attempt; default: the rule's max_retries. */
  readonly max_retries?: number;
  readonly working_dir?: string;
  readonly env?: Readonly<Record<string, string>>;
  readonly git_branch?: string;
  readonly project?: string;
  /**
   * A workflow to tell when the task ends: it gets the signal `task:<task id>` with `{task, status,
   * result, error, session, attempt}` (a YAML workflow's assign step waits for it).
   */
  readonly notify_workflow?: string;
}

/** A task waiting to be routed, with what routing needs to know about its past. */
export interface TaskForRouting extends TaskSpec {
  readonly id: string;
  /** When the task was sent, in ms since the epoch (older first among equal priorities). */
  readonly created_at: number;
  /** Sessions this task already ran on and must not go back to (a reassignment to an alternate). */
  readonly avoid_sessions?: readonly string[];
}

/** A session as the router sees it. */
export interface SessionForRouting {
  readonly name: string;
  readonly provider: string;
  readonly status: SessionStatus;
  /** Tasks it may hold at once. */
  readonly capacity: number;
  /** How many tasks it holds now (assigned or running). */
  readonly held_tasks: number;
  readonly working_dir?: string;
  readonly git_branch?: string;
  /** Last heartbeat, ms since the epoch. */
  readonly last_heartbeat: number;
  /** When it was last given a task, ms since the epoch (round robin); 0 if never. */
  readonly last_assigned_at: number;
  /** Tasks given to it since it registered (weighted round robin). */
  readonly assigned_total: number;
}
