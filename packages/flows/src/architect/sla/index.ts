// The SLA monitor's pure parts: the clock, per-task status, alert deduplication and metrics. The
// monitor loop, storage and delivery build on these.
export { elapsedMs, type MeasureFrom, type SlaPause, type TaskTimes } from './clock.js';
export {
  targetFor,
  slaStatus,
  type ResolvedSlaTarget,
  type SlaTask,
  type SlaStatus,
  type SlaSeverity,
  type SlaAction,
} from './evaluate.js';
export { checkSlaRules, SLA_CONDITION_VARIABLES, type SlaRuleProblem } from './rules.js';
export {
  disabledChannels,
  logChannelLevel,
  postToWebhook,
  NOTIFICATION_CHANNELS,
  type DroppedChannel,
  type NotificationChannel,
} from './channels.js';
export { fillSlaMessage, formatSlaNumber, type SlaMessageValues } from './message.js';
export {
  AlertTracker,
  type AlertState,
  type AlertSeverity,
  type AlertTask,
  type AlertObservation,
  type SlaAlert,
} from './alerts.js';
export {
  slaMetrics,
  QueueDepthEma,
  SLA_WINDOWS,
  type SlaWindow,
  type FinishedTask,
  type WindowStats,
  type QueueDepthEmaOptions,
  type QueueDepthEmaState,
} from './metrics.js';
