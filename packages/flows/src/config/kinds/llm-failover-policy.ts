// The `llm_failover_policy` kind (llm_failover_policy.yaml): which LLM provider serves which request.
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const share = z.number().min(0).max(1);
const name = z.string().min(1);
const hour = z.number().int().min(0).max(23);

const QUALITY_LEVELS = ['high', 'medium', 'low'] as const;

const providerOrder = z
  .array(name)
  .describe('Providers to try, in order; names from llm_providers.providers');

const useCase = z
  .strictObject({
    preferred_order: providerOrder.optional(),
    quality_threshold: z
      .enum(QUALITY_LEVELS)
      .optional()
      .describe('Least quality level accepted; levels are defined in quality.thresholds'),
    max_cost_per_request: z.number().min(0).optional().describe('Most USD one request may cost'),
    settings: z
      .strictObject({
        temperature: z.number().min(0).max(2).optional().describe('Sampling temperature, 0 to 2'),
        max_tokens: positiveInt.optional().describe('Most output tokens'),
      })
      .optional()
      .describe('Generation settings for requests of this use case'),
  })
  .describe('The provider preferences of one use case');

const regexSource = z
  .string()
  .min(1)
  .refine(
    (s) => {
      try {
        new RegExp(s);
        return true;
      } catch {
        return false;
      }
    },
    { message: 'not a valid regular expression' },
  );

const enabled = z.boolean().optional().describe('Whether this routing applies');

const routing = z
  .strictObject({
    by_task_type: z
      .strictObject({
        enabled,
        rules: z
          .array(
            z.strictObject({
              match: regexSource.describe('Regular expression matched against the task type or prompt'),
              use_case: name.describe('Use case to apply; a name from use_cases'),
            }),
          )
          .optional(),
      })
      .optional()
      .describe('Pick a use case by task type; the first matching rule wins'),
    by_time: z
      .strictObject({
        enabled,
        rules: z
          .array(
            z.strictObject({
              hours: z.array(hour).min(1).describe('Hours of the day (0–23) the rule applies to'),
              preferred_provider: name.optional().describe('Provider to prefer in those hours'),
              preferred_order: providerOrder.optional(),
            }),
          )
          .optional(),
      })
      .optional()
      .describe('Prefer providers by hour of the day'),
    by_project: z
      .strictObject({
        enabled,
        rules: z
          .array(
            z.strictObject({
              projects: z.array(name).min(1).describe('Projects the rule applies to'),
              preferred_order: providerOrder.optional(),
              preferred_provider: name.optional().describe('Provider to prefer for those projects'),
            }),
          )
          .optional(),
      })
      .optional()
      .describe('Prefer providers by project'),
  })
  .describe('Routing of requests to use cases and providers');

const costOptimization = z
  .strictObject({
    enabled: z.boolean().optional().describe('Select providers by the budget used'),
    budget_thresholds: z
      .array(
        z.strictObject({
          threshold: share.describe('Share of the daily budget used (0.9 = 90%)'),
          action: z.enum(['prefer_free', 'deprioritize', 'block']).describe('What to do with `providers`'),
          providers: z.array(name).describe('Providers the action applies to'),
        }),
      )
      .optional(),
    prefer_free_during_low_priority: z
      .boolean()
      .optional()
      .describe('Prefer free providers in low_priority_hours'),
    low_priority_hours: z.array(hour).optional().describe('Hours of the day (0–23) of low priority'),
    enable_batching: z.boolean().optional(),
    batch_size: positiveInt.optional().describe('Requests per batch'),
    batch_timeout: positiveInt.optional().describe('Seconds to wait to fill a batch'),
  })
  .describe('Cost optimization by budget and time');

const quality = z
  .strictObject({
    thresholds: z
      .strictObject({
        high: share.optional(),
        medium: share.optional(),
        low: share.optional(),
      })
      .superRefine((t, ctx) => {
        if (t.high !== undefined && t.medium !== undefined && t.high < t.medium) {
          ctx.addIssue({ code: 'custom', message: 'high must be at least medium', path: ['high'] });
        }
        if (t.medium !== undefined && t.low !== undefined && t.medium < t.low) {
          ctx.addIssue({ code: 'custom', message: 'medium must be at least low', path: ['medium'] });
        }
      })
      .optional()
      .describe('Least model score (0–1) for each quality level'),
    model_scores: z.record(z.string(), share).optional().describe('Quality score (0–1) by model name'),
  })
  .describe('Quality levels and model scores');

const toggle = z.boolean().optional();

/**
 * Schema of `llm_failover_policy.yaml`: which LLM provider serves which request. Use cases
 * (`code_generation`, `chat`, …) each have a preferred provider order, a quality level, a cost cap
 * per request and generation settings; routing picks a use case by task type, or providers by hour
 * or project; cost optimization reacts to the budget used; quality levels map to model scores;
 * `fallback` says what happens when every provider fails; `monitoring` configures failover alerts;
 * `experimental` holds adaptive routing, response caching and parallel racing.
 */
export const llmFailoverPolicySchema = z
  .strictObject({
    version: z.string().optional().describe('Format version of this file, "1.0"'),
    use_cases: z.record(z.string(), useCase).optional().describe('Use cases by name'),
    routing: routing.optional(),
    cost_optimization: costOptimization.optional(),
    quality: quality.optional(),
    fallback: z
      .strictObject({
        on_total_failure: z
          .strictObject({
            action: z
              .enum(['raise_error', 'return_cached', 'return_default'])
              .optional()
              .describe('What to do when every provider failed'),
            default_response: z.string().optional().describe('Response given by return_default'),
            cache_max_age: positiveInt
              .optional()
              .describe('return_cached: oldest cached response used, seconds'),
          })
          .optional(),
        allow_lower_quality: toggle.describe('Fall back to providers below the use case quality level'),
        min_acceptable_quality: share.optional().describe('Least model score ever accepted (0–1)'),
      })
      .optional()
      .describe('Behaviour when providers fail'),
    monitoring: z
      .strictObject({
        alert_on_failover: toggle,
        alert_threshold: positiveInt.optional().describe('Failovers within alert_window that raise an alert'),
        alert_window: positiveInt.optional().describe('Seconds over which failovers are counted'),
        alert_on_provider_failure: toggle,
        alert_on_budget: toggle,
        budget_alert_thresholds: z.array(share).optional().describe('Shares of the budget (0–1) that alert'),
        alert_webhook: z.string().nullable().optional().describe('Webhook URL for alerts, or null'),
        collect_metrics: toggle,
        metrics_retention: positiveInt.optional().describe('Days metrics are kept'),
      })
      .optional()
      .describe('Failover alerts and metrics'),
    experimental: z
      .strictObject({
        adaptive_routing: z
          .strictObject({
            enabled: toggle,
            learning_rate: share.optional(),
            exploration_rate: share.optional(),
          })
          .optional()
          .describe('Route by past performance'),
        response_caching: z
          .strictObject({
            enabled: toggle,
            max_cache_size: positiveInt.optional().describe('Most cached responses'),
            ttl: positiveInt.optional().describe('Seconds a cached response lives'),
          })
          .optional()
          .describe('Cache responses to identical requests'),
        parallel_racing: z
          .strictObject({
            enabled: toggle,
            providers: z.array(name).optional().describe('Providers raced against each other'),
            timeout: positiveInt.optional().describe('Seconds to wait for the fastest'),
          })
          .optional()
          .describe('Send a request to several providers and use the fastest'),
      })
      .optional()
      .describe('Experimental features'),
  })
  .superRefine((value, ctx) => {
    // A routing rule's use_case must name a configured use case.
    const rules = value.routing?.by_task_type?.rules;
    if (!rules || !value.use_cases) return;
    const known = Object.keys(value.use_cases);
    rules.forEach((r, i) => {
      if (!Object.hasOwn(value.use_cases ?? {}, r.use_case)) {
        ctx.addIssue({
          code: 'custom',
          message: `'${r.use_case}' is not a use case configured under use_cases (${known.join(', ')})`,
          path: ['routing', 'by_task_type', 'rules', i, 'use_case'],
        });
      }
    });
  })
  .describe('LLM failover policy (llm_failover_policy.yaml)');

/** The validated content of `llm_failover_policy.yaml`: use cases, routing, cost and quality policy. */
export type LlmFailoverPolicy = z.output<typeof llmFailoverPolicySchema>;
