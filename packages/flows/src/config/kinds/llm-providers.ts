// The `llm_providers` kind (llm_providers.yaml): the LLM providers, their failover and their budgets.
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);
const cost = z.number().min(0);
const name = z.string().min(1);

const circuitBreaker = z
  .strictObject({
    failure_threshold: positiveInt
      .optional()
      .describe('Failures within failure_window that open the circuit'),
    failure_window: positiveInt.optional().describe('Seconds over which failures are counted'),
    recovery_timeout: positiveInt.optional().describe('Seconds open before a trial request (half-open)'),
    success_threshold: positiveInt.optional().describe('Successes in half-open state that close the circuit'),
    max_recovery_timeout: positiveInt.optional().describe('Most seconds the recovery timeout grows to'),
    backoff_multiplier: z.number().min(1).optional().describe('Factor the recovery timeout grows by'),
  })
  .superRefine((c, ctx) => {
    if (c.recovery_timeout !== undefined && c.max_recovery_timeout !== undefined) {
      if (c.recovery_timeout > c.max_recovery_timeout) {
        ctx.addIssue({
          code: 'custom',
          message: `recovery_timeout (${c.recovery_timeout}) exceeds max_recovery_timeout (${c.max_recovery_timeout})`,
          path: ['recovery_timeout'],
        });
      }
    }
  })
  .describe('Circuit breaker: stop calling a failing provider for a while');

const provider = z
  .strictObject({
    enabled: z.boolean().optional().describe('Whether the provider is used'),
    type: z
      .enum(['anthropic', 'openai', 'openai-responses', 'google', 'ollama', 'openai-compatible'])
      .optional()
      .describe(
        'Wire protocol; inferred from the name when absent (claude → anthropic, gemini → google, ollama, openai, else openai-compatible)',
      ),
    model: z.string().min(1).describe('Model id, e.g. claude-sonnet-4-5-20250929 (${VAR:-default} allowed)'),
    api_key: z
      .string()
      .nullable()
      .optional()
      .describe('API key, normally ${ENV_VAR}; null when the variable is unset'),
    endpoint: z.string().min(1).optional().describe('Base URL of the provider API'),
    timeout: positiveInt.optional().describe('Request timeout in seconds'),
    max_retries: nonNegativeInt.optional().describe('Retries of a failed request before failover'),
    circuit_breaker: circuitBreaker.optional(),
    cost_per_1k_prompt: cost.optional().describe('USD per 1,000 input tokens'),
    cost_per_1k_completion: cost.optional().describe('USD per 1,000 output tokens'),
  })
  .describe('One LLM provider');

/**
 * Schema of `llm_providers.yaml`: the LLM providers Baton may call (Claude, Ollama, OpenAI,
 * Gemini, AnythingLLM, …), each with its model, endpoint, API key, timeouts, circuit breaker and
 * token costs; the order in which providers are tried (`failover_order`); global settings
 * (default provider, logging, caching); budgets with daily and monthly limits and alerts; and
 * advanced retry, validation and metrics settings.
 */
export const llmProvidersSchema = z
  .strictObject({
    version: z.string().optional().describe('Format version of this file, "1.0"'),
    failover_order: z
      .array(name)
      .optional()
      .describe('Providers tried in this order until one succeeds; names from `providers`'),
    providers: z.record(z.string(), provider).optional().describe('Providers by name'),
    global: z
      .strictObject({
        default_provider: name
          .optional()
          .describe('Provider used when failover is off; a name from `providers`'),
        failover_enabled: z.boolean().optional().describe('Try the next provider when one fails'),
        default_timeout: positiveInt.optional().describe('Request timeout in seconds for all providers'),
        log_requests: z.boolean().optional(),
        log_responses: z.boolean().optional(),
        log_level: z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL']).optional(),
        enable_caching: z.boolean().optional().describe('Cache identical requests'),
        cache_ttl: positiveInt.optional().describe('Cache time to live in seconds'),
      })
      .optional()
      .describe('Settings for all providers'),
    budget: z
      .strictObject({
        enabled: z.boolean().optional(),
        daily_request_limit: nonNegativeInt.optional().describe('Most requests per day'),
        daily_cost_limit: cost.optional().describe('Most USD spent per day'),
        monthly_request_limit: nonNegativeInt.optional().describe('Most requests per month'),
        monthly_cost_limit: cost.optional().describe('Most USD spent per month'),
        alert_threshold: z
          .number()
          .min(0)
          .max(1)
          .optional()
          .describe('Share of a limit that raises an alert (0.8)'),
        alert_webhook: z.string().nullable().optional().describe('Webhook URL for budget alerts, or null'),
      })
      .optional()
      .describe('Spending limits'),
    advanced: z
      .strictObject({
        retry_on_rate_limit: z.boolean().optional().describe('Retry after a 429 response'),
        retry_backoff_base: z.number().min(1).optional().describe('Exponential backoff base of retries'),
        retry_max_delay: z
          .number()
          .positive()
          .optional()
          .describe('Longest delay between retries, in seconds'),
        validate_responses: z.boolean().optional(),
        require_valid_json: z.boolean().optional(),
        metrics_enabled: z.boolean().optional(),
        metrics_interval: positiveInt.optional().describe('Seconds between metrics reports'),
      })
      .optional()
      .describe('Retry, validation and metrics settings'),
  })
  .superRefine((value, ctx) => {
    // Names that refer to providers must name one that is configured.
    if (!value.providers) return;
    const known = Object.keys(value.providers);
    const check = (ref: string, path: (string | number)[]): void => {
      if (!Object.hasOwn(value.providers ?? {}, ref)) {
        ctx.addIssue({
          code: 'custom',
          message: `'${ref}' is not a provider configured under providers (${known.join(', ')})`,
          path,
        });
      }
    };
    value.failover_order?.forEach((p, i) => check(p, ['failover_order', i]));
    if (value.global?.default_provider !== undefined) {
      check(value.global.default_provider, ['global', 'default_provider']);
    }
  })
  .describe('LLM providers (llm_providers.yaml)');

/** The validated content of `llm_providers.yaml`: LLM providers, failover order, budgets. */
export type LlmProviders = z.output<typeof llmProvidersSchema>;
