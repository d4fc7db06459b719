// The `routing_rules` kind (routing_rules.yaml): how tasks are routed to agent sessions.
import { z } from 'zod';

const port = z.number().int().min(1).max(65535);

/** `[low, high]`, two TCP ports with low ≤ high. */
const portRange = z
  .tuple([port, port])
  .refine((r) => r[0] <= r[1], { message: 'a port range is [low, high] with low ≤ high' })
  .describe('Ports to lease for test environments, as [low, high] (inclusive)');

const positiveInt = z.number().int().positive();
const nonNegativeInt = z.number().int().min(0);
const name = z.string().min(1);

const taskTypeRule = z
  .strictObject({
    description: z.string().optional().describe('What this task type is, for people and the dashboard'),
    requires_env: z.boolean().optional().describe('Whether the task needs its own test environment'),
    preferred_sessions: z.array(name).optional().describe('Sessions to try first, in order'),
    port_range: portRange.optional(),
    auto_create_env: z.boolean().optional().describe('Create the test environment automatically'),
    urgent: z.boolean().optional().describe('Route ahead of non-urgent work'),
    merge_via_pr: z.boolean().optional().describe('Merge the work through a pull request'),
    priority: z.number().int().min(0).max(10).optional().describe('Priority, 0 (lowest) to 10 (highest)'),
    timeout_minutes: positiveInt.optional().describe('Minutes before the task counts as timed out'),
    max_retries: nonNegativeInt.optional().describe('Retries after a failed attempt'),
  })
  .describe('Routing for one task type');

const providerEntry = z.strictObject({
  name: name.describe('Provider name (claude, codex, ollama, …)'),
  cost_per_1m_tokens: z.number().min(0).optional().describe('Cost in USD per million tokens'),
  reliability_score: z.number().min(0).max(1).optional().describe('Observed reliability, 0 to 1'),
  max_concurrent_sessions: positiveInt.optional().describe('Most sessions of this provider at once'),
});

const fallbackRule = z
  .strictObject({
    condition: z
      .enum(['no_sessions_available', 'all_preferred_sessions_busy', 'task_type_unknown', 'timeout_exceeded'])
      .describe('The situation this rule handles'),
    action: z
      .enum(['queue_task', 'route_to_alternate', 'route_to_default', 'reassign_task'])
      .describe('What the router does then'),
    retry_after_seconds: positiveInt.optional().describe('queue_task: seconds before routing again'),
    max_queue_size: positiveInt.optional().describe('queue_task: most tasks waiting in the queue'),
    notification: z.boolean().optional().describe('Notify when the rule fires'),
    alternate_selection: name
      .optional()
      .describe('route_to_alternate: how to pick the alternate (least_busy)'),
    default_session: name.optional().describe('route_to_default: the session to use'),
    reassign_to: name.optional().describe('reassign_task: a session name, or alternate_session'),
    max_reassignments: nonNegativeInt.optional().describe('reassign_task: most reassignments of one task'),
    max_retries: nonNegativeInt
      .optional()
      .describe('reassign_task: retries after the reassignments, then failed'),
  })
  .describe('What to do when normal routing cannot proceed');

const loadBalancing = z.strictObject({
  strategy: z
    .enum(['round_robin', 'least_loaded', 'weighted', 'random', 'weighted_round_robin'])
    .optional()
    .describe('How sessions that qualify are chosen among'),
  weights: z
    .record(z.string(), z.number().min(0))
    .optional()
    .describe('Relative weight per provider, for the weighted strategies'),
  max_tasks_per_session: positiveInt.optional().describe('Most tasks one session holds at once'),
});

/**
 * Schema of `routing_rules.yaml`: how the Architect router assigns tasks to agent sessions. Routing
 * per task type (`environment_routing`: preferred sessions, priority, timeouts, test environments),
 * sessions never routed to, the providers and what they cost, fallback rules for when routing
 * cannot proceed, session health checks, load balancing, environment creation and metrics.
 */
export const routingRulesSchema = z
  .strictObject({
    version: z.string().optional().describe('Format version of this file, "1.0"'),
    environment_routing: z
      .record(z.string(), taskTypeRule)
      .optional()
      .describe('Routing rules by task type (bug_fix, feature_development, …)'),
    excluded_sessions: z
      .array(name)
      .optional()
      .describe('Sessions that never receive tasks (coordination, monitoring)'),
    supported_providers: z.array(providerEntry).optional().describe('Agent providers and their costs'),
    fallback_rules: z.array(fallbackRule).optional().describe('What to do when routing cannot proceed'),
    health_monitoring: z
      .strictObject({
        enabled: z.boolean().optional(),
        check_interval_seconds: positiveInt.optional().describe('Seconds between health checks'),
        stale_threshold_minutes: z
          .number()
          .positive()
          .optional()
          .describe('Minutes without a heartbeat before a session is stale (fractions allowed: 0.5)'),
        auto_remove_stale: z.boolean().optional().describe('Remove stale sessions automatically'),
      })
      .optional()
      .describe('Session health monitoring'),
    load_balancing: loadBalancing.optional().describe('How work is spread across sessions'),
    environment_settings: z
      .strictObject({
        default_port_range: portRange.optional(),
        cleanup_after_hours: positiveInt.optional().describe('Hours before an idle environment is removed'),
        auto_cleanup_on_merge: z.boolean().optional().describe('Remove the environment once merged'),
        branch_prefix: z
          .string()
          .regex(/^[A-Za-z0-9._/-]+$/, 'a branch prefix uses letters, digits, and . _ / -')
          .optional()
          .describe('Prefix of the git branches created for environments'),
        hooks: z
          .strictObject({
            create_env: z
              .string()
              .min(1)
              .optional()
              .describe('Shell command run for a task with auto_create_env, the task as JSON on stdin'),
            merge_pr: z
              .string()
              .min(1)
              .optional()
              .describe(
                'Shell command run when a task with merge_via_pr completes, the task as JSON on stdin',
              ),
            timeout_seconds: positiveInt.optional().describe('Seconds a hook may run (default 300)'),
          })
          .optional()
          .describe('Commands that create environments and pull requests (Baton records their outcome)'),
      })
      .optional()
      .describe('Test environment creation'),
    metrics: z
      .strictObject({
        track_routing_decisions: z.boolean().optional(),
        track_session_utilization: z.boolean().optional(),
        report_interval_minutes: positiveInt.optional(),
        retention_days: positiveInt.optional(),
      })
      .optional()
      .describe('Routing metrics'),
  })
  .superRefine((value, ctx) => {
    const names = new Set<string>();
    value.supported_providers?.forEach((p, i) => {
      if (names.has(p.name)) {
        ctx.addIssue({
          code: 'custom',
          message: `provider '${p.name}' is listed twice`,
          path: ['supported_providers', i, 'name'],
        });
      }
      names.add(p.name);
    });
  })
  .describe('Task routing rules (routing_rules.yaml)');

/** The validated content of `routing_rules.yaml`: task routing to agent sessions. */
export type RoutingRules = z.output<typeof routingRulesSchema>;
