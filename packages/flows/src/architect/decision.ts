// What the router decides for one task, and why: the shapes routeTask returns and formatExplanation prints.
import type { SessionStatus } from './model.js';

/** Why a task could not be assigned now (the caller waits and routes it again). */
export type QueueReason =
  /** No session passes the hard constraints (status, capacity, exclusions, providers) right now. */
  | 'no_sessions_available'
  /** A preferred session is busy and no `all_preferred_sessions_busy` rule lets an alternate take the task. */
  | 'preferred_sessions_busy'
  /** The task's `target_session` exists but cannot take a task now (busy, full, offline, …). */
  | 'target_session_unavailable';

/** One session as the router weighed it. */
export interface CandidateExplanation {
  readonly session: string;
  readonly provider: string;
  /** The status the session reported. */
  readonly status: SessionStatus;
  /** True when it passes every hard constraint (it may still lose to a better candidate). */
  readonly eligible: boolean;
  /** Why it is not eligible, or why it ranked as it did, in the order the router checked them. */
  readonly reasons: readonly string[];
  /** The strategy's score, higher is better; set only for the sessions the strategy chose among. */
  readonly score?: number;
  readonly chosen?: true;
}

/** Why the router decided what it did; `baton tasks explain` prints it with {@link formatExplanation}. */
export interface Explanation {
  /**
   * The rule that applied: `environment_routing.bug_fix`, or
   * `fallback_rules[2] task_type_unknown → route_to_default (dev_worker1)` for an unknown type.
   */
  readonly rule: string;
  /**
   * How the session was picked among the eligible ones: `target_session`, `preferred_sessions` (their
   * order), the `alternate_selection` of `all_preferred_sessions_busy` (`least_busy`), or
   * `load_balancing.strategy`.
   */
  readonly strategy: string;
  /**
   * Every session given to the router, in the order it was given. Rendered on first read (a getter,
   * which JSON.stringify and structured clones read like a field): routing itself builds no text per
   * session.
   */
  readonly candidates: readonly CandidateExplanation[];
  /** The fallbacks considered or applied, in order (fallback rules, provider fallback). */
  readonly fallbacks: readonly string[];
  /** One line for people: `assigned to dev_worker2: preferred session 1 of 2, idle, 0/5 tasks`. */
  readonly summary: string;
}

/** The task goes to `session` now. */
export interface AssignDecision {
  readonly kind: 'assign';
  /** The session's name. */
  readonly session: string;
  /** The session's provider. */
  readonly provider: string;
  /** The rule that applied (as {@link Explanation.rule}). */
  readonly rule: string;
  readonly explanation: Explanation;
}

/** No session can take the task now; the caller keeps it queued and routes it again later. */
export interface QueueDecision {
  readonly kind: 'queue';
  readonly reason: QueueReason;
  /** From the `no_sessions_available` rule: when to route it again (the caller also retries on any session change). */
  readonly retry_after_seconds?: number;
  /** From the `no_sessions_available` rule's `notification`: whether to tell the user it is waiting. */
  readonly notify?: boolean;
  readonly explanation: Explanation;
}

/** The task can never be routed as given; nothing should be stored. */
export interface RejectDecision {
  readonly kind: 'reject';
  readonly code: 'E_INVALID_OPTION' | 'E_NOT_FOUND';
  /** What is wrong and what to do, for a BatonError. */
  readonly message: string;
  readonly explanation: Explanation;
}

/** What {@link routeTask} decided for one task. */
export type RoutingDecision = AssignDecision | QueueDecision | RejectDecision;
