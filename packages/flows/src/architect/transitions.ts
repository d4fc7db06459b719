// What becomes of a task after an attempt that did not complete: a timeout reassigns it to an
// alternate session first, then retries, then fails it; a failure reported by its session retries,
// then fails. Pure, so every path is tested without a database.
import type { ReassignPolicy } from './task-rules.js';

/** The task's counters before the bad attempt. */
export interface AttemptCounts {
  readonly retry_count: number;
  readonly reassignments: number;
  readonly avoid_sessions: readonly string[];
}

/** What to do: route it again (reassigned or retried) or fail it. */
export type NextStep =
  | {
      readonly kind: 'reassign';
      /** Sessions the next attempt must avoid (the timed-out one added). */
      readonly avoid_sessions: readonly string[];
      /** With `reassign_to: <session>`, the only session the next attempt may take. */
      readonly target_session?: string;
      readonly reason: string;
    }
  | { readonly kind: 'retry'; readonly reason: string }
  | { readonly kind: 'fail'; readonly reason: string };

/**
 * The next step after `outcome` on `session` (see `reassignPolicy` for the order): reassignments
 * apply to timeouts only; retries clear the sessions to avoid (any session may take a retry).
 */
export function afterBadAttempt(
  policy: ReassignPolicy,
  counts: AttemptCounts,
  outcome: 'timed_out' | 'failed',
  session: string | null,
): NextStep {
  if (outcome === 'timed_out' && counts.reassignments < policy.maxReassignments) {
    const n = counts.reassignments + 1;
    const to = policy.reassignTo;
    if (to !== 'alternate_session') {
      return {
        kind: 'reassign',
        avoid_sessions: counts.avoid_sessions,
        target_session: to,
        reason: `timed out: reassignment ${n} of ${policy.maxReassignments}, to ${to} (timeout_exceeded rule)`,
      };
    }
    const avoid =
      session && !counts.avoid_sessions.includes(session)
        ? [...counts.avoid_sessions, session]
        : counts.avoid_sessions;
    return {
      kind: 'reassign',
      avoid_sessions: avoid,
      reason: `timed out: reassignment ${n} of ${policy.maxReassignments}, to an alternate session${session ? ` (not ${session})` : ''}`,
    };
  }
  const what = outcome === 'timed_out' ? 'timed out' : 'failed';
  if (counts.retry_count < policy.maxRetries) {
    return { kind: 'retry', reason: `${what}: retry ${counts.retry_count + 1} of ${policy.maxRetries}` };
  }
  const spent =
    outcome === 'timed_out' && policy.maxReassignments > 0
      ? `${policy.maxReassignments} reassignment${policy.maxReassignments === 1 ? '' : 's'} and ${policy.maxRetries} retr${policy.maxRetries === 1 ? 'y' : 'ies'} used`
      : `${policy.maxRetries} retr${policy.maxRetries === 1 ? 'y' : 'ies'} used`;
  return { kind: 'fail', reason: `${what}; ${spent}` };
}
