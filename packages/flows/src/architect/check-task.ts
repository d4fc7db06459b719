// The input checks of a task that can never be routed as given: `baton tasks send` runs them before
// it stores anything, and routeTask turns them into a `reject` decision.
import { nearest } from '@baton/core';
import type { RoutingRules } from '../config/kinds/routing-rules.js';
import type { SessionForRouting, TaskForRouting, TaskSpec } from './model.js';
import { providerTiers, tierOf } from './task-rules.js';

/** A task as sent, or one being routed again (whose `avoid_sessions` matter too). */
export type CheckedTask = TaskSpec & Pick<Partial<TaskForRouting>, 'avoid_sessions'>;

/** Why a task can never be routed; the caller throws `new BatonError(problem.code, problem.message)`. */
export interface TaskProblem {
  readonly code: 'E_INVALID_OPTION' | 'E_NOT_FOUND';
  readonly message: string;
}

/**
 * The first problem that makes `task` unroutable, or undefined:
 * - `priority` not an integer from 0 to 10; `timeout_minutes` not a positive number; `max_retries`
 *   not an integer ≥ 0 (E_INVALID_OPTION);
 * - a provider it names (`target_provider`, `preferred_providers`, `fallback_providers`) missing from
 *   `supported_providers`, when that list exists (E_INVALID_OPTION, with a did-you-mean);
 * - with `sessions`: a `target_session` that is not registered (E_NOT_FOUND, with a did-you-mean), is
 *   excluded by `excluded_sessions`, is in the task's `avoid_sessions`, or runs a provider the task
 *   does not accept (E_INVALID_OPTION).
 * An unknown type is not a problem: the default rule routes it.
 */
export function checkTask(
  rules: RoutingRules,
  task: CheckedTask,
  sessions?: readonly SessionForRouting[],
): TaskProblem | undefined {
  return (
    checkNumbers(task) ?? checkProviders(rules, task) ?? (sessions && checkTarget(rules, task, sessions))
  );
}

function invalid(message: string): TaskProblem {
  return { code: 'E_INVALID_OPTION', message };
}

function checkNumbers(task: TaskSpec): TaskProblem | undefined {
  const { priority, timeout_minutes: timeout, max_retries: retries } = task;
  if (priority !== undefined && !(Number.isInteger(priority) && priority >= 0 && priority <= 10)) {
    return invalid(`priority must be an integer from 0 (lowest) to 10 (highest), not ${priority}`);
  }
  if (timeout !== undefined && !(Number.isFinite(timeout) && timeout > 0)) {
    return invalid(`timeout_minutes must be a positive number of minutes, not ${timeout}`);
  }
  if (retries !== undefined && !(Number.isInteger(retries) && retries >= 0)) {
    return invalid(`max_retries must be an integer ≥ 0, not ${retries}`);
  }
  return undefined;
}

function checkProviders(rules: RoutingRules, task: TaskSpec): TaskProblem | undefined {
  if (!rules.supported_providers) return undefined;
  const supported = rules.supported_providers.map((p) => p.name);
  const named: [string, readonly string[] | undefined][] = [
    ['target_provider', task.target_provider === undefined ? undefined : [task.target_provider]],
    ['preferred_providers', task.preferred_providers],
    ['fallback_providers', task.fallback_providers],
  ];
  for (const [key, providers] of named) {
    const unknown = providers?.find((p) => !supported.includes(p));
    if (unknown === undefined) continue;
    const guess = nearest(unknown, supported);
    return invalid(
      `${key}: provider '${unknown}' is not in routing_rules.supported_providers` +
        `${guess ? ` (did you mean '${guess}'?)` : ''}; supported: ${supported.join(', ')}`,
    );
  }
  return undefined;
}

function checkTarget(
  rules: RoutingRules,
  task: CheckedTask,
  sessions: readonly SessionForRouting[],
): TaskProblem | undefined {
  const name = task.target_session;
  if (name === undefined) return undefined;
  const target = sessions.find((s) => s.name === name);
  if (!target) {
    const guess = nearest(
      name,
      sessions.map((s) => s.name),
    );
    return {
      code: 'E_NOT_FOUND',
      message:
        `target session '${name}' does not exist${guess ? ` (did you mean '${guess}'?)` : ''}; ` +
        '`baton sessions list` shows the registered sessions',
    };
  }
  if (rules.excluded_sessions?.includes(name)) {
    return invalid(`target session '${name}' is in routing_rules.excluded_sessions: it never receives tasks`);
  }
  if (task.avoid_sessions?.includes(name)) {
    return invalid(`target session '${name}' is in the task's avoid_sessions: it already ran this task`);
  }
  const tiers = providerTiers(task);
  if (tierOf(tiers, target.provider) === undefined) {
    return invalid(
      `target session '${name}' runs provider '${target.provider}', which the task does not accept ` +
        `(${tiers!.tiers.join(', ')}); drop the provider options or add it to fallback_providers with allow_fallback`,
    );
  }
  return undefined;
}
