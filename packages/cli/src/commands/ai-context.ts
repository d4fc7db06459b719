// The AI layer as the CLI sets it up: llm_providers.yaml and llm_failover_policy.yaml from the
// configuration directory (a missing key named by the variable to set), the permission rules of
// agent_permissions.yaml plus the project's "always" answers, and a sandbox on the project root.
import { join, resolve } from 'node:path';
import { PermissionPolicy, type Logger, type PermissionRuleLists, type Store } from '@baton/core';
import { Ai, AlwaysRules, ToolSandbox, type AgentRuntime, type AiConfig, type AlertSink } from '@baton/ai';
import { logChannelLevel, postToWebhook, type Config, type SlaRules } from '@baton/flows';

/** The AI configuration of a loaded configuration directory. */
export function aiConfigOf(config: Config): AiConfig {
  const providers = config.get('llm_providers') as AiConfig['llm_providers'];
  const apiKeyVariables: Record<string, string> = {};
  for (const name of Object.keys(providers?.providers ?? {})) {
    // Any of the variables the key names would give it one (`${GEMINI_API_KEY:-${GOOGLE_API_KEY}}`).
    const path = `llm_providers.providers.${name}.api_key`;
    if (config.unsetVariables(path).length) apiKeyVariables[name] = config.variablesOf(path).join(' or ');
  }
  return {
    llm_providers: providers,
    llm_failover_policy: config.get('llm_failover_policy') as AiConfig['llm_failover_policy'],
    apiKeyVariables,
  };
}

/**
 * Where budget alerts go: the SLA notifications' log channel (at its level), and a webhook:
 * llm_providers.yaml's `budget.alert_webhook`, else the SLA notifications' webhook. A webhook that
 * fails is logged, without its URL (it may carry a token).
 */
export function budgetAlerts(config: Config, logger: Logger): AlertSink {
  const sla = config.get('sla_rules') as SlaRules | undefined;
  const providers = config.get('llm_providers') as AiConfig['llm_providers'];
  const level = logChannelLevel(sla);
  const slaHook = sla?.notifications?.webhook;
  const url =
    providers?.budget?.alert_webhook ?? (slaHook?.enabled !== false ? slaHook?.url : undefined) ?? undefined;
  return async (alert) => {
    const share = Math.round((alert.spent / alert.limitValue) * 100);
    logger[level](
      { budget: alert },
      `LLM budget: ${alert.limit} at ${share}% for ${alert.period} (${alert.spent} of ${alert.limitValue})`,
    );
    if (!url) return;
    try {
      await postToWebhook(url, { type: 'llm_budget', ...alert, share });
    } catch (err) {
      logger.warn(`LLM budget alert not delivered: ${(err as Error).message}`);
    }
  };
}

/** Where a project's "always" answers are kept. */
export const alwaysFile = (root: string) => join(root, '.baton', 'agent_permissions.json');

/**
 * The permission rules of the configuration, with the project's "always" answers and `extraAllow`
 * (a command's `--allow`) allowed after them: deny and ask rules still come first.
 */
export function permissionRules(
  config: Config,
  root: string,
  extraAllow: readonly string[] = [],
): PermissionRuleLists {
  const rules = (config.get('agent_permissions') ?? {}) as PermissionRuleLists;
  const always = new AlwaysRules(alwaysFile(root)).read();
  return { ...rules, allow: [...(rules.allow ?? []), ...always, ...extraAllow] };
}

/** The policy of `permissionRules`. */
export function permissionPolicy(
  config: Config,
  root: string,
  extraAllow: readonly string[] = [],
): PermissionPolicy {
  return new PermissionPolicy(permissionRules(config, root, extraAllow));
}

/** Everything an agent's run uses, for a project root. */
export async function agentRuntime(
  store: Store,
  config: Config,
  rootDir: string,
  extraAllow: readonly string[] = [],
): Promise<AgentRuntime> {
  const root = resolve(rootDir);
  return {
    ai: await Ai.open(store, aiConfigOf(config), { alerts: budgetAlerts(config, store.logger) }),
    // Baton's state and the configuration (rules included) stay out of the tools' reach.
    sandbox: new ToolSandbox({ root, protectedDirs: [join(root, '.baton'), config.dir] }),
    policy: permissionPolicy(config, root, extraAllow),
    always: new AlwaysRules(alwaysFile(root)),
  };
}
