// The registry of configuration kinds: a file's kind is its name (`routing_rules.yaml`) or its
// top-level `kind:`; each kind has one zod schema. Kinds never merge into each other.
import type { z } from 'zod';
import { routingRulesSchema } from './routing-rules.js';
import { slaRulesSchema } from './sla-rules.js';
import { queriesSchema } from './queries.js';
import { datasourcesSchema } from './datasources.js';
import { workflowsSchema } from './workflows.js';
import { uiConfigSchema } from './ui-config.js';
import { llmProvidersSchema } from './llm-providers.js';
import { llmFailoverPolicySchema } from './llm-failover-policy.js';
import { agentsSchema } from './agents.js';
import { agentPermissionsSchema } from './agent-permissions.js';
import { mcpServersSchema } from './mcp-servers.js';
import { checkSlaRules } from '../../architect/sla/rules.js';
import { planQueries } from '../../queries/load.js';
import { checkFlowReferences, checkWorkflows } from '../../workflows/compile.js';
import type { ConfigView } from '../types.js';

export const KIND_SCHEMAS = {
  routing_rules: routingRulesSchema,
  sla_rules: slaRulesSchema,
  queries: queriesSchema,
  datasources: datasourcesSchema,
  workflows: workflowsSchema,
  ui_config: uiConfigSchema,
  llm_providers: llmProvidersSchema,
  llm_failover_policy: llmFailoverPolicySchema,
  agents: agentsSchema,
  agent_permissions: agentPermissionsSchema,
  mcp_servers: mcpServersSchema,
} as const;

/** A problem a schema cannot see, found in a kind's validated value; `path` starts with the kind. */
export interface KindProblem {
  readonly path: string;
  readonly message: string;
  /** Where to point, when not at `path` itself. */
  readonly at?: string;
  /** The character of the string value at `at ?? path` to point at (an expression error in a template). */
  readonly offset?: number;
}

/**
 * Checks beyond the schemas, run at load so that `config validate` reports them with file:line:
 * SLA escalation conditions must compile in the expression language.
 */
export const KIND_CHECKS: {
  readonly [K in KindName]?: (value: z.output<(typeof KIND_SCHEMAS)[K]>) => readonly KindProblem[];
} = {
  sla_rules: checkSlaRules,
  workflows: checkWorkflows,
};

/**
 * Checks across kinds, run at load without any I/O: each query and index against the datasources
 * declared (names, params, placeholders). Preparing the SQL on its database is the query service's.
 */
export const CONFIG_CHECKS: readonly ((view: ConfigView) => readonly KindProblem[])[] = [
  (view) => (view.value.queries ? planQueries(view).problems : []),
  (view) => (view.value.workflows ? checkFlowReferences(view) : []),
];

/** The name of a configuration kind, which is also its file name without `.yaml`. */
export type KindName = keyof typeof KIND_SCHEMAS;

export const KIND_NAMES = Object.keys(KIND_SCHEMAS) as KindName[];

/** The merged configuration: one validated value per kind that some file defined. */
export type ConfigValue = { readonly [K in KindName]?: Readonly<z.output<(typeof KIND_SCHEMAS)[K]>> };

export function isKindName(name: string): name is KindName {
  return Object.hasOwn(KIND_SCHEMAS, name);
}

export type { RoutingRules } from './routing-rules.js';
export type { SlaRules } from './sla-rules.js';
export type { QueriesConfig, QueryDefinition, QueryParam } from './queries.js';
export type { DatasourcesConfig, DatasourceDefinition } from './datasources.js';
export type { WorkflowsConfig } from './workflows.js';
export { DEFAULT_UI_CONFIG, uiConfigWithDefaults, type UiConfig } from './ui-config.js';
export type { LlmProviders } from './llm-providers.js';
export type { LlmFailoverPolicy } from './llm-failover-policy.js';
export type { AgentsConfig, AgentProviderConfig } from './agents.js';
