// The AI layer as the CLI sets it up: llm_providers.yaml and llm_failover_policy.yaml from the
// configuration directory (a missing key named by the variable to set), the permission rules of
// agent_permissions.yaml plus the project's "always" answers, and a sandbox on the project root.
import { join, resolve } from 'node:path';
import { PermissionPolicy, type PermissionRuleLists, type Store } from '@baton/core';
import { Ai, AlwaysRules, ToolSandbox, type AgentRuntime, type AiConfig } from '@baton/ai';
import type { Config } from '@baton/flows';

/** The AI configuration of a loaded configuration directory. */
export function aiConfigOf(config: Config): AiConfig {
  const providers = config.get('llm_providers') as AiConfig['llm_providers'];
  const apiKeyVariables: Record<string, string> = {};
  for (const name of Object.keys(providers?.providers ?? {})) {
    const unset = config.unsetVariables(`llm_providers.providers.${name}.api_key`);
    if (unset.length) apiKeyVariables[name] = unset.join(' or ');
  }
  return {
    llm_providers: providers,
    llm_failover_policy: config.get('llm_failover_policy') as AiConfig['llm_failover_policy'],
    apiKeyVariables,
  };
}

/** Where a project's "always" answers are kept. */
export const alwaysFile = (root: string) => join(root, '.baton', 'agent_permissions.json');

/** The permission rules of the configuration, with the project's "always" answers allowed after them. */
export function permissionPolicy(config: Config, root: string): PermissionPolicy {
  const rules = (config.get('agent_permissions') ?? {}) as PermissionRuleLists;
  const always = new AlwaysRules(alwaysFile(root)).read();
  return new PermissionPolicy({ ...rules, allow: [...(rules.allow ?? []), ...always] });
}

/** Everything an agent's run uses, for a project root. */
export async function agentRuntime(store: Store, config: Config, rootDir: string): Promise<AgentRuntime> {
  const root = resolve(rootDir);
  return {
    ai: await Ai.open(store, aiConfigOf(config)),
    sandbox: new ToolSandbox({ root }),
    policy: permissionPolicy(config, root),
    always: new AlwaysRules(alwaysFile(root)),
  };
}
