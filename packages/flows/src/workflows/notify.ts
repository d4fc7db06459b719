// Notifications of YAML workflows, on the SLA rules' channels (sla_rules.yaml `notifications`):
// `dashboard` stores them (baton.flow_notifications, for the dashboard and API), `log` logs them at
// the configured level, `webhook` POSTs them as JSON. A channel the rules turn off, or a webhook
// without a url, fails the step, so its retries and error_handling apply instead of a silent drop.
import { BatonError, type Driver, type Logger } from '@baton/core';
import type { Config } from '../config/config.js';
import { disabledChannels, logChannelLevel, postToWebhook } from '../architect/sla/channels.js';
import type { FlowNotification } from './services.js';
import { FLOW_CHANNELS } from './compile.js';

/** Sends one notification on its channel. */
export async function sendNotification(
  config: Config,
  driver: Driver,
  logger: Logger,
  n: FlowNotification,
): Promise<void> {
  const rules = config.value.sla_rules;
  const off = rules ? disabledChannels(rules).find((d) => d.channel === n.channel) : undefined;
  if (off)
    throw new BatonError(
      'E_CONFIG_INVALID',
      `channel '${n.channel}' does not send (${off.reason} at ${off.path})`,
    );
  switch (n.channel) {
    case 'dashboard':
      await driver.query(
        `INSERT INTO baton.flow_notifications (run_id, workflow, step, channel, message) VALUES ($1, $2, $3, $4, $5)`,
        [n.run, n.workflow, n.step, n.channel, n.message],
      );
      return;
    case 'log': {
      logger[logChannelLevel(rules)]({ workflow: n.workflow, run: n.run, step: n.step }, n.message);
      return;
    }
    case 'webhook': {
      const url = rules?.notifications?.webhook?.url;
      if (!url)
        throw new BatonError(
          'E_CONFIG_INVALID',
          'the webhook channel needs sla_rules.notifications.webhook.url',
        );
      let status: number;
      try {
        status = await postToWebhook(url, { notification: n });
      } catch (err) {
        throw new BatonError('E_JOB_FAILED', `the notification ${(err as Error).message}`);
      }
      if (status < 200 || status > 299)
        throw new BatonError('E_JOB_FAILED', `the notification webhook answered ${status}`);
      return;
    }
    default:
      // Refused at load (compile.ts); a run pinned to a definition stored before that may still name one.
      throw new BatonError(
        'E_CONFIG_INVALID',
        `channel '${n.channel}' cannot send from a workflow (use ${FLOW_CHANNELS.join(', ')})`,
      );
  }
}
