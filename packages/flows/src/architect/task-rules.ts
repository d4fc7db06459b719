// What routing_rules.yaml says about one task: the rule of its type (or the default rule), its
// effective priority, timeout and retries, and the fallback rules the caller applies itself.
import { nearest } from '@baton/core';
import type { RoutingRules } from '../config/kinds/routing-rules.js';
import type { TaskSpec } from './model.js';

/** One entry of `environment_routing`. */
export type TaskTypeRule = NonNullable<RoutingRules['environment_routing']>[string];
/** One entry of `fallback_rules`. */
export type FallbackRule = NonNullable<RoutingRules['fallback_rules']>[number];

/** The priority of a task when neither the task nor its rule sets one. */
export const DEFAULT_PRIORITY = 5;

/** The rule that routes a task of some type. */
export interface ResolvedRule {
  /** How explanations name it: `environment_routing.bug_fix`, `fallback_rules[2] task_type_unknown → …`. */
  readonly label: string;
  /** The rule; for an unknown type, one that prefers the default session (or an empty rule). */
  readonly rule: TaskTypeRule;
  /** What the explanation's fallbacks list says about it (the unknown type and the rule used), if anything. */
  readonly note?: string;
}

/** The first fallback rule with this condition and action, with its position in `fallback_rules`. */
export function findFallback(
  rules: RoutingRules,
  condition: FallbackRule['condition'],
  action: FallbackRule['action'],
): { rule: FallbackRule; label: string } | undefined {
  const index =
    rules.fallback_rules?.findIndex((r) => r.condition === condition && r.action === action) ?? -1;
  if (index < 0) return undefined;
  return { rule: rules.fallback_rules![index], label: `fallback_rules[${index}] ${condition} → ${action}` };
}

/**
 * The rule for `type`: `environment_routing[type]`; for a type it does not list, the first
 * `task_type_unknown → route_to_default` fallback rule, which prefers its `default_session`; with
 * neither, an empty rule (any eligible session, by the strategy).
 */
export function resolveRule(rules: RoutingRules, type: string): ResolvedRule {
  const routing = rules.environment_routing ?? {};
  if (Object.hasOwn(routing, type)) return { label: `environment_routing.${type}`, rule: routing[type] };
  const guess = nearest(type, Object.keys(routing));
  const unknown = `task type '${type}' has no environment_routing rule${guess ? ` (did you mean '${guess}'?)` : ''}`;
  const fallback = findFallback(rules, 'task_type_unknown', 'route_to_default');
  if (!fallback)
    return { label: 'none', rule: {}, note: `${unknown}; no task_type_unknown rule: any session` };
  const target = fallback.rule.default_session;
  const label = target ? `${fallback.label} (${target})` : fallback.label;
  return { label, rule: target ? { preferred_sessions: [target] } : {}, note: `${unknown}: ${label}` };
}

/** A task's effective settings: its own values, else its rule's, else the defaults. */
export interface TaskSettings {
  /** 0 to 10; default {@link DEFAULT_PRIORITY}. */
  readonly priority: number;
  /** Minutes an assignment may run; undefined when neither the task nor its rule sets it (no timeout). */
  readonly timeout_minutes: number | undefined;
  /** Retries after a failed or timed-out attempt; default 0. */
  readonly max_retries: number;
}

/** The task's priority, timeout and retries: `task.x ?? rule.x ?? default`. */
export function taskSettings(rules: RoutingRules, task: TaskSpec): TaskSettings {
  const { rule } = resolveRule(rules, task.type);
  return {
    priority: task.priority ?? rule.priority ?? DEFAULT_PRIORITY,
    timeout_minutes: task.timeout_minutes ?? rule.timeout_minutes,
    max_retries: task.max_retries ?? rule.max_retries ?? 0,
  };
}

/** `task.priority ?? rule priority ?? 5`: the priority the queue orders by (see compareForService). */
export function effectivePriority(rules: RoutingRules, task: TaskSpec): number {
  return taskSettings(rules, task).priority;
}

/** The most tasks that may wait in the queue (`no_sessions_available.max_queue_size`); undefined: no limit. */
export function queueLimit(rules: RoutingRules): number | undefined {
  return findFallback(rules, 'no_sessions_available', 'queue_task')?.rule.max_queue_size;
}

/** What the caller does when an assignment times out (the `timeout_exceeded → reassign_task` rule). */
export interface ReassignPolicy {
  /** `alternate_session` (route again, avoiding every session the task ran on) or a session's name. */
  readonly reassignTo: 'alternate_session' | (string & {});
  /** Reassignments before retries start; 0 when there is no `timeout_exceeded` rule. */
  readonly maxReassignments: number;
  /** Retries after the reassignments: the rule's `max_retries`, else the task's (see {@link taskSettings}). */
  readonly maxRetries: number;
}

/** Reassignments when the rule gives no `max_reassignments`. */
export const DEFAULT_MAX_REASSIGNMENTS = 1;

/**
 * How a timed-out task goes on. The caller (the task's workflow), on each timeout:
 * 1. while `reassignments < maxReassignments`: records `reassigned` and routes again, with the
 *    timed-out session added to `avoid_sessions` (`alternate_session`), or with `target_session`
 *    set to `reassignTo` when it names a session;
 * 2. else while `retries < maxRetries`: records `retried` and routes again with `avoid_sessions`
 *    cleared (any session, the same one included);
 * 3. else records `failed`.
 * A failed (not timed-out) attempt skips step 1. Without a `timeout_exceeded` rule there are no
 * reassignments and the retries are the task's own.
 */
export function reassignPolicy(rules: RoutingRules, task: TaskSpec): ReassignPolicy {
  const fallback = findFallback(rules, 'timeout_exceeded', 'reassign_task')?.rule;
  return {
    reassignTo: fallback?.reassign_to ?? 'alternate_session',
    maxReassignments: fallback ? (fallback.max_reassignments ?? DEFAULT_MAX_REASSIGNMENTS) : 0,
    maxRetries: fallback?.max_retries ?? taskSettings(rules, task).max_retries,
  };
}

/** The providers a task accepts, in tiers: a later tier is used only when no session of an earlier one can take it. */
export interface ProviderTiers {
  /** `target_provider`, else each of `preferred_providers`; then, with `allow_fallback`, each of `fallback_providers`. */
  readonly tiers: readonly string[];
  /** `allow_fallback` without `fallback_providers`: any other provider, as the last tier. */
  readonly anyOther: boolean;
}

/**
 * The task's provider tiers, or undefined when it names no provider (any provider, one tier). Without
 * `allow_fallback` the named providers are the only ones accepted.
 */
export function providerTiers(task: TaskSpec): ProviderTiers | undefined {
  const demanded =
    task.target_provider !== undefined ? [task.target_provider] : (task.preferred_providers ?? []);
  if (demanded.length === 0) return undefined;
  if (!task.allow_fallback) return { tiers: demanded, anyOther: false };
  const fallback = task.fallback_providers ?? [];
  return { tiers: [...demanded, ...fallback], anyOther: fallback.length === 0 };
}

/** The tier of `provider` (0 is best), or undefined when the task does not accept it. */
export function tierOf(tiers: ProviderTiers | undefined, provider: string): number | undefined {
  if (!tiers) return 0;
  const index = tiers.tiers.indexOf(provider);
  if (index >= 0) return index;
  return tiers.anyOther ? tiers.tiers.length : undefined;
}
