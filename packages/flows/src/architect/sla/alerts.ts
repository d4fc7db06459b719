// Deduplication of SLA alerts: one alert per task per change of severity. The only state is the last
// severity alerted per task, as plain JSON that the caller stores durably, so a restarted monitor
// neither repeats an alert nor misses a change that happened while it was down.
import { BatonError } from '@baton/core';
import type { NotificationChannel } from './channels.js';
import type { SlaSeverity, SlaStatus, SlaAction } from './evaluate.js';
import { fillSlaMessage } from './message.js';

/** A severity that raises an alert. */
export type AlertSeverity = Exclude<SlaSeverity, 'ok'>;

/**
 * The tracker's durable state: task id → the severity last alerted. A task that is absent is `ok`.
 * Store it in the same transaction as the alerts it produced, so that the two cannot disagree.
 */
export type AlertState = Record<string, AlertSeverity>;

/** One alert to store and send. */
export interface SlaAlert {
  readonly task_id: string;
  readonly severity: AlertSeverity;
  readonly previous: SlaSeverity;
  readonly action: SlaAction;
  /** The rule's message, or a default one when the rule has none. */
  readonly message: string;
  /** Where to send it: empty when `notify` is off for the task (the change is still recorded). */
  readonly channels: readonly NotificationChannel[];
}

/** What one observation calls for: nothing, an alert, or clearing the task's alert. */
export interface AlertObservation {
  readonly alert?: SlaAlert;
  readonly clear?: true;
}

/** What the tracker needs of a task: its id, and whether it ended. */
export interface AlertTask {
  readonly id: string;
  readonly ended_at?: number;
}

const DEFAULT_MESSAGE =
  'Task {task_id} is at {percent_used}% of its SLA ({elapsed_minutes}/{target_minutes} min)';

/**
 * Turns a stream of SLA statuses into alerts, one per task per severity change.
 *
 * - A change to `warning` or `critical` (up, or down after a reload lowered the task's share) gives one
 *   alert, with the severity it replaces.
 * - A return to `ok`, a task whose type lost its SLA (status undefined), and a task that ended give
 *   `clear` when an alert was standing, and forget the task.
 * - The same severity again gives nothing, before or after a restart from {@link AlertTracker.state}.
 */
export class AlertTracker {
  private readonly last: AlertState;

  /**
   * @param state What {@link AlertTracker.state} returned before, e.g. read back from JSON.
   * @throws BatonError `E_INPUT_INVALID` when it is not an object of task id → `warning` | `critical`.
   */
  constructor(state: Readonly<Record<string, unknown>> = {}) {
    if (state === null || typeof state !== 'object' || Array.isArray(state)) {
      throw new BatonError('E_INPUT_INVALID', 'SLA alert state must be an object of task id → severity');
    }
    this.last = Object.create(null) as AlertState;
    for (const [id, severity] of Object.entries(state)) {
      if (severity !== 'warning' && severity !== 'critical') {
        throw new BatonError(
          'E_INPUT_INVALID',
          `SLA alert state of task ${id} is ${JSON.stringify(severity)}; expected "warning" or "critical"`,
          { details: { task_id: id } },
        );
      }
      this.last[id] = severity;
    }
  }

  /** A copy of the state to store durably (plain JSON). */
  get state(): AlertState {
    return { ...this.last };
  }

  /** The state, for `JSON.stringify(tracker)`. */
  toJSON(): AlertState {
    return this.state;
  }

  /**
   * Records `status` (from `slaStatus` at the same instant) for `task` and says what to do about it.
   * Observe an ended task once more after it ends, so that its alert is cleared and its entry dropped.
   */
  observe(task: AlertTask, status: SlaStatus | undefined): AlertObservation {
    const previous: SlaSeverity = this.last[task.id] ?? 'ok';
    const severity = task.ended_at === undefined && status ? status.severity : 'ok';
    if (severity === previous) return {};
    if (severity === 'ok') {
      delete this.last[task.id];
      return { clear: true };
    }
    this.last[task.id] = severity;
    // severity is not ok, so status is defined
    const s = status!;
    return {
      alert: {
        task_id: task.id,
        severity,
        previous,
        action: s.action,
        message: s.message ?? fillSlaMessage(DEFAULT_MESSAGE, s),
        channels: s.notify ? s.notification_channels : [],
      },
    };
  }
}
