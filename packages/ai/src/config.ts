// What @baton/ai reads from llm_providers.yaml and llm_failover_policy.yaml. The files are loaded and
// validated by @baton/flows (its `llm_providers` and `llm_failover_policy` kinds); these types are
// the part of that validated shape this package uses, so that the engine-side package does not
// depend on the YAML layer. A validated config object is assignable to them as it is.

/** Circuit-breaker settings of one provider (seconds, as in the file). */
export interface BreakerSettings {
  failure_threshold?: number;
  failure_window?: number;
  recovery_timeout?: number;
  success_threshold?: number;
  max_recovery_timeout?: number;
  backoff_multiplier?: number;
}

/** The wire protocol a provider speaks; inferred from its name when the file does not say. */
export type ProviderKind =
  'anthropic' | 'openai' | 'openai-responses' | 'google' | 'ollama' | 'openai-compatible';

/** One entry of `providers:` in llm_providers.yaml. */
export interface ProviderSettings {
  enabled?: boolean;
  model: string;
  /** Null when the `${VAR}` it names is unset. */
  api_key?: string | null;
  endpoint?: string;
  /** Seconds. */
  timeout?: number;
  max_retries?: number;
  circuit_breaker?: BreakerSettings;
  cost_per_1k_prompt?: number;
  cost_per_1k_completion?: number;
  type?: ProviderKind;
}

/** llm_providers.yaml. */
export interface LlmProvidersFile {
  failover_order?: string[];
  providers?: Record<string, ProviderSettings>;
  global?: { default_provider?: string; failover_enabled?: boolean; default_timeout?: number };
  budget?: {
    enabled?: boolean;
    daily_request_limit?: number;
    daily_cost_limit?: number;
    monthly_request_limit?: number;
    monthly_cost_limit?: number;
    alert_threshold?: number;
    alert_webhook?: string | null;
  };
  advanced?: { retry_on_rate_limit?: boolean; retry_backoff_base?: number; retry_max_delay?: number };
}

/** One use case of llm_failover_policy.yaml. */
export interface UseCaseSettings {
  preferred_order?: string[];
  max_cost_per_request?: number;
  settings?: { temperature?: number; max_tokens?: number };
}

/** llm_failover_policy.yaml. */
export interface LlmFailoverPolicyFile {
  use_cases?: Record<string, UseCaseSettings>;
  routing?: {
    by_task_type?: { enabled?: boolean; rules?: { match: string; use_case: string }[] };
  };
}

/** Both files, as the configuration directory gives them (either may be absent). */
export interface AiConfig {
  llm_providers?: LlmProvidersFile;
  llm_failover_policy?: LlmFailoverPolicyFile;
  /**
   * The environment variable each provider's `api_key` came from (`claude` → `ANTHROPIC_API_KEY`),
   * so that a missing key is reported by the variable to set. The CLI fills it from the config's
   * provenance; when absent, the error names the provider's `api_key` setting instead.
   */
  apiKeyVariables?: Record<string, string>;
}

/** Infers a provider's wire protocol from its `type`, else from its name. */
export function providerKind(name: string, settings: ProviderSettings): ProviderKind {
  if (settings.type) return settings.type;
  const n = name.toLowerCase();
  if (n.includes('claude') || n.includes('anthropic')) return 'anthropic';
  if (n.includes('gemini') || n.includes('google')) return 'google';
  if (n.includes('ollama')) return 'ollama';
  if (n === 'openai' || n.startsWith('openai') || n.startsWith('gpt')) return 'openai';
  return 'openai-compatible';
}
