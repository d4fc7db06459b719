// A task's SLA status at a given time: its target, how much of it is used, and the first escalation
// rule that matches.
import { BatonError } from '@baton/core';
import type { CompiledExpression } from '@baton/ta';
import type { SlaRules } from '../../config/kinds/sla-rules.js';
import type { NotificationChannel } from './channels.js';
import { elapsedMs, type MeasureFrom, type TaskTimes } from './clock.js';
import { fillSlaMessage } from './message.js';
import { prepareRules } from './rules.js';

type EscalationRule = NonNullable<SlaRules['escalation_rules']>[number];

/** How close a task is to its SLA. */
export type SlaSeverity = EscalationRule['severity'];

/** What the dashboard and the monitor do with a task of a given severity. */
export type SlaAction = EscalationRule['action'];

/** A task type's SLA target with the file's omissions filled in. */
export interface ResolvedSlaTarget {
  /** The `sla_targets` key that applied: the task type, or `default`. */
  readonly key: string;
  readonly target_minutes: number;
  /** 80 when the file does not say. */
  readonly warning_percent: number;
  /** 100 when the file does not say. */
  readonly critical_percent: number;
  /** true when the file does not say. */
  readonly notify_on_breach: boolean;
  /** `created` when the file does not say. */
  readonly measure_from: MeasureFrom;
}

/**
 * The SLA target of `taskType`: its own entry under `sla_targets`, else the `default` entry, else
 * undefined, meaning that tasks of this type have no SLA (no status, no alert, not in the metrics).
 */
export function targetFor(rules: SlaRules, taskType: string): ResolvedSlaTarget | undefined {
  const targets = rules.sla_targets ?? {};
  // Object.hasOwn: a task type named `constructor` must not find Object.prototype's
  const key = Object.hasOwn(targets, taskType)
    ? taskType
    : Object.hasOwn(targets, 'default')
      ? 'default'
      : undefined;
  if (key === undefined) return undefined;
  const t = targets[key]!;
  return {
    key,
    target_minutes: t.target_minutes,
    warning_percent: t.warning_percent ?? 80,
    critical_percent: t.critical_percent ?? 100,
    notify_on_breach: t.notify_on_breach ?? true,
    measure_from: t.measure_from ?? 'created',
  };
}

/** What the SLA monitor needs to know of a task. Times are ms since the epoch. */
export interface SlaTask extends TaskTimes {
  readonly id: string;
  readonly type: string;
  /** 0–10, as resolved when the task was sent. */
  readonly priority: number;
  /** The task's status (`pending`, `assigned`, `running`, …). */
  readonly status: string;
  /** The session holding it; absent while it has none. */
  readonly session?: string;
}

/** A task's SLA status at one instant. */
export interface SlaStatus {
  readonly task_id: string;
  readonly task_type: string;
  /** The `sla_targets` key that applied: the task type, or `default`. */
  readonly target_key: string;
  readonly measure_from: MeasureFrom;
  readonly target_minutes: number;
  readonly warning_percent: number;
  readonly critical_percent: number;
  /** Exact (unrounded) minutes on the SLA clock. */
  readonly elapsed_minutes: number;
  /** Exact `elapsed / target × 100`; the conditions see this value, messages round it down. */
  readonly percent_used: number;
  /** Index of the escalation rule that matched; null when none did (then `ok`, `normal_display`). */
  readonly rule_index: number | null;
  readonly severity: SlaSeverity;
  readonly action: SlaAction;
  readonly color?: string;
  /** The rule's message template, filled. */
  readonly message?: string;
  /** The rule's channels, less those that cannot send (see `disabledChannels`). */
  readonly notification_channels: readonly NotificationChannel[];
  /** Whether to send on `notification_channels`: some remain and the type's `notify_on_breach` is not false. */
  readonly notify: boolean;
}

/**
 * The SLA status of `task` at `now`, or undefined when its type has no target (see {@link targetFor}).
 *
 * The escalation rules are tried in file order and the first whose `condition` is true gives the
 * severity, action, color, message and channels; when none matches the task is `ok` with
 * `normal_display`. Conditions see `percent_used`, `warning_percent`, `critical_percent`,
 * `elapsed_minutes`, `target_minutes`, `task_type`, `priority`, `status` and `session` (null without
 * one). `notify_on_breach: false` on the type turns `notify` off at every severity: the task is still
 * coloured and reported, but nothing is sent for it.
 *
 * @throws BatonError `E_CONFIG_INVALID` when a condition of `rules` does not compile (check rules at
 *   load with `checkSlaRules`) or gives something other than true or false for this task.
 */
export function slaStatus(rules: SlaRules, task: SlaTask, now: number): SlaStatus | undefined {
  const target = targetFor(rules, task.type);
  if (!target) return undefined;
  const prepared = prepareRules(rules);
  if (prepared.problems.length > 0) {
    const [first] = prepared.problems;
    const more = prepared.problems.length > 1 ? ` (and ${prepared.problems.length - 1} more)` : '';
    throw new BatonError('E_CONFIG_INVALID', `${first!.path}: ${first!.message}${more}`, {
      details: { problems: prepared.problems },
    });
  }
  const ms = elapsedMs(task, now, target.measure_from);
  const targetMs = target.target_minutes * 60_000;
  // multiply first: 1_260_000 × 100 / 1_800_000 is exactly 70, where 0.7 × 100 need not be
  const percent_used = (ms * 100) / targetMs;
  const elapsed_minutes = ms / 60_000;
  const context = {
    percent_used,
    warning_percent: target.warning_percent,
    critical_percent: target.critical_percent,
    elapsed_minutes,
    target_minutes: target.target_minutes,
    task_type: task.type,
    priority: task.priority,
    status: task.status,
    session: task.session ?? null,
  };
  const escalation = rules.escalation_rules ?? [];
  const index = escalation.findIndex((_, i) => matches(prepared.conditions[i]!, i, context));
  const rule = index < 0 ? undefined : escalation[index];
  const channels = (rule?.notification_channels ?? []).filter((c) => prepared.usable.has(c));
  const values = { task_id: task.id, elapsed_minutes, target_minutes: target.target_minutes, percent_used };
  return {
    task_id: task.id,
    task_type: task.type,
    target_key: target.key,
    measure_from: target.measure_from,
    target_minutes: target.target_minutes,
    warning_percent: target.warning_percent,
    critical_percent: target.critical_percent,
    elapsed_minutes,
    percent_used,
    rule_index: index < 0 ? null : index,
    severity: rule?.severity ?? 'ok',
    action: rule?.action ?? 'normal_display',
    ...(rule?.color === undefined ? {} : { color: rule.color }),
    ...(rule?.message === undefined ? {} : { message: fillSlaMessage(rule.message, values) }),
    notification_channels: channels,
    notify: target.notify_on_breach && channels.length > 0,
  };
}

/** Whether one compiled condition holds; an evaluation error or a non-boolean names the rule. */
function matches(condition: CompiledExpression, index: number, context: Record<string, unknown>): boolean {
  const path = `sla_rules.escalation_rules[${index}].condition`;
  let v: unknown;
  try {
    v = condition.evaluate({ context });
  } catch (e) {
    throw new BatonError('E_CONFIG_INVALID', `${path}: ${(e as Error).message}`, {
      cause: e,
      details: { path },
    });
  }
  if (typeof v !== 'boolean') {
    throw new BatonError(
      'E_CONFIG_INVALID',
      `${path}: '${condition.source}' must give true or false, got ${v === null ? 'null' : typeof v}`,
      { details: { path } },
    );
  }
  return v;
}
