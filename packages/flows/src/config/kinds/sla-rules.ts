// The `sla_rules` kind (sla_rules.yaml): SLA targets per task type and what happens near a breach.
import { z } from 'zod';

const positiveInt = z.number().int().positive();
const percent = z.number().min(0).max(1000);

/** The notification channels `notifications` configures. */
const CHANNELS = ['dashboard', 'log', 'sms', 'webhook'] as const;

/** A CSS color: `#rgb`, `#rrggbb`, `#rrggbbaa`, a name (`yellow`) or `rgb(…)`/`hsl(…)`. */
const cssColor = z
  .string()
  .regex(
    /^(#[0-9a-fA-F]{3,4}|#[0-9a-fA-F]{6}|#[0-9a-fA-F]{8}|[a-zA-Z]+|(rgb|rgba|hsl|hsla)\([^()]*\))$/,
    'a CSS color such as #ffc107, yellow or rgb(255, 193, 7)',
  );

const slaTarget = z
  .strictObject({
    description: z.string().optional().describe('What this task type is'),
    target_minutes: positiveInt.describe('Minutes a task of this type should take at most'),
    warning_percent: percent.optional().describe('Percent of the target at which the task is a warning (80)'),
    critical_percent: percent
      .optional()
      .describe('Percent of the target at which the task is critical (100)'),
    notify_on_breach: z.boolean().optional().describe('Send notifications when the SLA is breached'),
    measure_from: z
      .enum(['created', 'started'])
      .optional()
      .describe("Count elapsed time from the task's creation (the default) or from its start"),
  })
  .superRefine((t, ctx) => {
    if (t.warning_percent !== undefined && t.critical_percent !== undefined) {
      if (t.warning_percent > t.critical_percent) {
        ctx.addIssue({
          code: 'custom',
          message:
            `warning_percent (${t.warning_percent}) must not exceed critical_percent ` +
            `(${t.critical_percent}): the warning comes first`,
          path: ['warning_percent'],
        });
      }
    }
  })
  .describe('The SLA of one task type');

const escalationRule = z
  .strictObject({
    condition: z
      .string()
      .min(1)
      .describe('Expression over percent_used, warning_percent, critical_percent, … ("percent_used >= 80")'),
    severity: z.enum(['ok', 'warning', 'critical']).describe('Severity of a task matching the condition'),
    action: z
      .enum(['alert_user', 'highlight_task', 'normal_display', 'reassign_task', 'webhook'])
      .describe('What the dashboard and monitor do with a matching task'),
    notification_channels: z
      .array(z.enum(CHANNELS))
      .optional()
      .describe('Channels to notify, configured under `notifications`'),
    color: cssColor.optional().describe('Color the dashboard shows the task in'),
    message: z
      .string()
      .optional()
      .describe('Message template with {task_id}, {elapsed_minutes}, {target_minutes}, {percent_used}'),
  })
  .describe('What happens when a task reaches a share of its SLA');

const channelEnabled = z.boolean().optional().describe('Whether this channel sends');

const notifications = z
  .strictObject({
    dashboard: z
      .strictObject({
        enabled: channelEnabled,
        endpoint: z.string().min(1).optional().describe('API path alerts are posted to (/api/alerts)'),
      })
      .optional(),
    log: z
      .strictObject({
        enabled: channelEnabled,
        level: z
          .enum(['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'])
          .optional()
          .describe('Log level of alert lines'),
      })
      .optional(),
    sms: z
      .strictObject({
        enabled: channelEnabled,
        provider: z.string().min(1).optional().describe('SMS provider (dialpad)'),
        numbers: z.array(z.string().min(1)).optional().describe('Phone numbers to text'),
      })
      .optional(),
    webhook: z
      .strictObject({
        enabled: channelEnabled,
        url: z
          .string()
          .min(1)
          .nullable()
          .optional()
          .describe('URL alerts are posted to (often ${ALERT_WEBHOOK_URL})'),
      })
      .optional(),
  })
  .describe('Notification channels');

/**
 * Schema of `sla_rules.yaml`: the service-level targets of task types and what happens as a task
 * approaches or breaches one. `sla_targets` gives each task type (and `default`) its target in
 * minutes and the warning and critical thresholds as percents of it; `escalation_rules` map a
 * condition to a severity, an action, a color and a message; `notifications` configure the
 * dashboard, log, SMS and webhook channels; `metrics` configure SLA compliance tracking.
 */
export const slaRulesSchema = z
  .strictObject({
    version: z.string().optional().describe('Format version of this file, "1.0"'),
    sla_targets: z
      .record(z.string(), slaTarget)
      .optional()
      .describe('SLA targets by task type; `default` applies to task types not listed'),
    escalation_rules: z.array(escalationRule).optional().describe('Escalation by share of the SLA used'),
    notifications: notifications.optional(),
    metrics: z
      .strictObject({
        track_sla_compliance: z.boolean().optional(),
        report_interval_minutes: positiveInt.optional(),
        retention_days: positiveInt.optional(),
      })
      .optional()
      .describe('SLA metrics'),
  })
  .describe('SLA rules (sla_rules.yaml)');

/** The validated content of `sla_rules.yaml`: SLA targets per task type, escalation and notification. */
export type SlaRules = z.output<typeof slaRulesSchema>;
