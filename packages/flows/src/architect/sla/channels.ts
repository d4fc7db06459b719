// Which notification channels can send. A rule may name a channel that `notifications` turns off (the
// fixture's sms); such a channel is dropped from every status and reported once, so the monitor logs
// it at load instead of on every tick.
import type { SlaRules } from '../../config/kinds/sla-rules.js';

/** A notification channel an escalation rule can name. */
export type NotificationChannel = NonNullable<
  NonNullable<SlaRules['escalation_rules']>[number]['notification_channels']
>[number];

/** Every channel `notifications` can configure. */
export const NOTIFICATION_CHANNELS: readonly NotificationChannel[] = ['dashboard', 'log', 'sms', 'webhook'];

/** A channel that will not send, why, and the key that says so (for `file:line` through `Config.locate`). */
export interface DroppedChannel {
  readonly channel: NotificationChannel;
  readonly reason: string;
  readonly path: string;
}

/**
 * The channels of `rules` that will not send:
 * - a channel whose `notifications.<channel>.enabled` is `false`;
 * - `webhook` with no `url` while a rule names it or it is configured (an unset `${ALERT_WEBHOOK_URL}`
 *   loads as null).
 *
 * A channel that `notifications` does not mention is enabled: `dashboard` and `log` need no settings.
 */
export function disabledChannels(rules: SlaRules): readonly DroppedChannel[] {
  const n = rules.notifications ?? {};
  const dropped: DroppedChannel[] = [];
  for (const channel of NOTIFICATION_CHANNELS) {
    if (n[channel]?.enabled === false) {
      dropped.push({ channel, reason: 'enabled: false', path: `sla_rules.notifications.${channel}.enabled` });
    }
  }
  const named = (rules.escalation_rules ?? []).some((r) => r.notification_channels?.includes('webhook'));
  if (n.webhook?.enabled !== false && (named || n.webhook) && !n.webhook?.url) {
    dropped.push({ channel: 'webhook', reason: 'no url', path: 'sla_rules.notifications.webhook.url' });
  }
  return dropped;
}

const LOG_LEVELS: Record<string, 'debug' | 'info' | 'warn' | 'error'> = {
  DEBUG: 'debug',
  INFO: 'info',
  WARNING: 'warn',
  WARN: 'warn',
  ERROR: 'error',
  CRITICAL: 'error',
};

/** The logger level of the `log` channel (`notifications.log.level`, WARNING by default). */
export function logChannelLevel(rules: SlaRules | undefined): 'debug' | 'info' | 'warn' | 'error' {
  return LOG_LEVELS[(rules?.notifications?.log?.level ?? 'WARNING').toUpperCase()] ?? 'warn';
}

/**
 * POSTs `body` as JSON to the `webhook` channel's URL, within 5 s. Returns the status, or throws the
 * fetch error's name only: the URL may carry a token, so it is never in a message.
 */
export async function postToWebhook(url: string, body: unknown): Promise<number> {
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(5000),
    });
    return res.status;
  } catch (err) {
    throw new Error(`the webhook could not be reached (${(err as Error).name})`);
  }
}
