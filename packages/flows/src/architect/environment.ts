// What a task type's environment needs (routing_rules.yaml: requires_env, port_range, auto_create_env,
// merge_via_pr, environment_settings).
import type { RoutingRules } from '../config/kinds/routing-rules.js';
import { resolveRule } from './task-rules.js';

export interface EnvironmentNeeds {
  /** The ports to lease one from, when the type requires an environment. */
  readonly portRange?: readonly [number, number];
  /** The create_env hook to run before a session may start the task. */
  readonly createHook?: string;
  /** The merge_pr hook to run when the task completes. */
  readonly mergeHook?: string;
  readonly hookTimeoutMs: number;
}

/** Ports leased when a type requiring an environment names no range (and the file gives no default). */
export const DEFAULT_PORT_RANGE: readonly [number, number] = [6001, 6050];
export const DEFAULT_HOOK_TIMEOUT_S = 300;

export function environmentNeeds(rules: RoutingRules, type: string): EnvironmentNeeds {
  const { rule } = resolveRule(rules, type);
  const settings = rules.environment_settings ?? {};
  const hooks = settings.hooks ?? {};
  return {
    portRange: rule.requires_env
      ? (rule.port_range ?? settings.default_port_range ?? DEFAULT_PORT_RANGE)
      : undefined,
    createHook: rule.requires_env && rule.auto_create_env ? hooks.create_env : undefined,
    mergeHook: rule.merge_via_pr ? hooks.merge_pr : undefined,
    hookTimeoutMs: (hooks.timeout_seconds ?? DEFAULT_HOOK_TIMEOUT_S) * 1000,
  };
}
