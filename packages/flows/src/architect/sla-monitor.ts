// The live SLA monitor: evaluates every open task against sla_rules.yaml, stores one alert per task
// per severity change and delivers it. The last severity alerted is a column of the task, changed
// only by a conditional update in the same transaction as the alert row, so a restart (or a second
// monitor) neither repeats nor misses an alert.
import { BatonError } from '@baton/core';
import type { ArchitectContext } from './context.js';
import { AlertTracker, type SlaAlert } from './sla/alerts.js';
import { disabledChannels, logChannelLevel, postToWebhook } from './sla/channels.js';
import { publish } from './workflow.js';
import { slaStatus, type SlaStatus } from './sla/evaluate.js';
import {
  QueueDepthEma,
  slaMetrics,
  type QueueDepthEmaState,
  type SlaWindow,
  type WindowStats,
} from './sla/metrics.js';
import { TASK_COLUMNS, iso, toSlaTask, type TaskRow } from './store/rows.js';

/** An alert as stored (baton.architect_alerts) and shown by `baton sla status` and the dashboard. */
export interface StoredAlert extends SlaAlert {
  readonly id: number;
  readonly color: string | null;
  readonly created_at: string;
  /** When an operator acknowledged it, and who (an API key id, a token subject, `local`). */
  readonly acknowledged_at: string | null;
  readonly acknowledged_by: string | null;
}

interface AlertRow {
  id: number;
  task_id: string;
  severity: 'warning' | 'critical';
  previous: string;
  action: string;
  color: string | null;
  message: string;
  channels: string[];
  created_at: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
}

function storedAlert(a: AlertRow): StoredAlert {
  return {
    id: Number(a.id),
    task_id: a.task_id,
    severity: a.severity,
    previous: a.previous as StoredAlert['previous'],
    action: a.action as StoredAlert['action'],
    color: a.color,
    message: a.message,
    channels: a.channels as StoredAlert['channels'],
    created_at: iso(a.created_at)!,
    acknowledged_at: iso(a.acknowledged_at),
    acknowledged_by: a.acknowledged_by,
  };
}

const ALERT_COLUMNS =
  'id, task_id, severity, previous, action, color, message, channels, created_at, acknowledged_at, acknowledged_by';

/**
 * Marks alert `id` acknowledged by `by` at `ctx.now()`. Acknowledging one already acknowledged keeps
 * the first acknowledgement. @throws BatonError `E_NOT_FOUND` for an unknown id.
 */
export async function acknowledgeAlert(ctx: ArchitectContext, id: number, by: string): Promise<StoredAlert> {
  if (!Number.isSafeInteger(id) || id < 1)
    throw new BatonError('E_INPUT_INVALID', `alert id must be a positive whole number, got ${String(id)}`);
  const [row] = await ctx.driver.query<AlertRow>(
    `UPDATE baton.architect_alerts
     SET acknowledged_at = coalesce(acknowledged_at, $2), acknowledged_by = coalesce(acknowledged_by, $3)
     WHERE id = $1 RETURNING ${ALERT_COLUMNS}`,
    [id, ctx.now(), by],
  );
  if (!row) throw new BatonError('E_NOT_FOUND', `no alert ${id}; open alerts are in the SLA report`);
  return storedAlert(row);
}

export interface SlaCheck {
  readonly alerts: readonly StoredAlert[];
  /** Tasks whose standing alert was cleared (back to ok). */
  readonly cleared: readonly string[];
  /** Tasks whose rule's action is reassign_task (the monitor reassigns them). */
  readonly reassign: readonly string[];
}

const EMA_KEY = 'queue_depth_ema';
/** The EMA of queue depth: one bar per minute, period 15. */
const EMA_OPTIONS = { period: 15, intervalMs: 60_000 };

async function openTasks(ctx: ArchitectContext): Promise<TaskRow[]> {
  // Two reads, each matching one partial index (the queue's and the held tasks'): a single
  // `status IN (…)` matches neither, and would read every task ever kept.
  return ctx.driver.query<TaskRow>(
    `SELECT * FROM (
       SELECT ${TASK_COLUMNS} FROM baton.architect_tasks WHERE status = 'pending'
       UNION ALL
       SELECT ${TASK_COLUMNS} FROM baton.architect_tasks WHERE status IN ('assigned', 'running')
     ) open ORDER BY created_at`,
  );
}

/** One pass of the monitor at `ctx.now()`. */
export async function checkSla(ctx: ArchitectContext): Promise<SlaCheck> {
  const { sla } = ctx.rules();
  const now = ctx.now();
  const alerts: StoredAlert[] = [];
  const cleared: string[] = [];
  const reassign: string[] = [];
  // The workflow clears the alert of a task that ends; this covers tasks whose workflow has not yet.
  const ended = await ctx.driver.query<{ task_id: string }>(
    `UPDATE baton.architect_alerts a SET cleared_at = $1 FROM baton.architect_tasks t
     WHERE a.cleared_at IS NULL AND t.id = a.task_id AND t.ended_at IS NOT NULL RETURNING a.task_id`,
    [now],
  );
  cleared.push(...ended.map((e) => e.task_id));
  for (const row of await openTasks(ctx)) {
    const status = slaStatus(sla, toSlaTask(row), now);
    const before =
      row.sla_severity === 'warning' || row.sla_severity === 'critical' ? row.sla_severity : undefined;
    const seen = new AlertTracker(before ? { [row.id]: before } : {}).observe({ id: row.id }, status);
    if (!seen.alert && !seen.clear) continue;
    const after = seen.alert?.severity ?? null;
    const stored = await ctx.driver.transaction(async (tx) => {
      const won = await tx.query(
        `UPDATE baton.architect_tasks SET sla_severity = $3 WHERE id = $1 AND sla_severity IS NOT DISTINCT FROM $2 RETURNING id`,
        [row.id, row.sla_severity, after],
      );
      if (won.length === 0) return undefined; // another monitor recorded this change
      await tx.query(
        'UPDATE baton.architect_alerts SET cleared_at = $2 WHERE task_id = $1 AND cleared_at IS NULL',
        [row.id, now],
      );
      if (!seen.alert) return null;
      const a = seen.alert;
      const [r] = await tx.query<{ id: number }>(
        `INSERT INTO baton.architect_alerts (task_id, severity, previous, action, color, message, channels, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id`,
        [a.task_id, a.severity, a.previous, a.action, status?.color ?? null, a.message, [...a.channels], now],
      );
      return {
        ...a,
        id: Number(r!.id),
        color: status?.color ?? null,
        created_at: iso(now)!,
        acknowledged_at: null,
        acknowledged_by: null,
      };
    });
    if (stored === undefined) continue;
    if (stored === null) cleared.push(row.id);
    else {
      alerts.push(stored);
      if (stored.action === 'reassign_task' && (row.status === 'assigned' || row.status === 'running'))
        reassign.push(row.id);
    }
  }
  await deliver(ctx, alerts);
  const emit = ctx.events.emit;
  if (emit) for (const a of alerts) await publish(ctx, emit, 'sla.alert', a, `sla:${a.id}`);
  return { alerts, cleared, reassign };
}

/** Sends stored alerts on their channels: `log`, `webhook` (POST of the alert as JSON); `dashboard` reads the table. */
async function deliver(ctx: ArchitectContext, alerts: readonly StoredAlert[]): Promise<void> {
  const rules = ctx.rules().sla;
  const level = logChannelLevel(rules);
  const url = rules.notifications?.webhook?.url;
  for (const alert of alerts) {
    if (alert.channels.includes('log')) ctx.log[level]({ alert }, `SLA ${alert.severity}: ${alert.message}`);
    if (alert.channels.includes('webhook') && url) {
      try {
        const status = await postToWebhook(url, { alert });
        if (status < 200 || status > 299)
          ctx.log.warn({ status, task: alert.task_id }, 'SLA webhook answered with an error');
      } catch (err) {
        ctx.log.warn(
          { task: alert.task_id, error: (err as Error).message },
          'SLA webhook could not be reached',
        );
      }
    }
  }
}

/** Logs, once, the channels that will never send (the fixture's sms is `enabled: false`). */
export function logDisabledChannels(ctx: ArchitectContext): void {
  for (const d of disabledChannels(ctx.rules().sla))
    ctx.log.info({ channel: d.channel, path: d.path }, `SLA channel ${d.channel} skipped: ${d.reason}`);
}

/** Samples the queue depth into its EMA (stored, so it survives restarts); returns the EMA. */
export async function sampleQueueDepth(ctx: ArchitectContext): Promise<number> {
  const now = ctx.now();
  return ctx.driver.transaction(async (tx) => {
    const [d] = await tx.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM baton.architect_tasks WHERE status = 'pending'`,
    );
    const [s] = await tx.query<{ value: QueueDepthEmaState }>(
      'SELECT value FROM baton.architect_state WHERE key = $1 FOR UPDATE',
      [EMA_KEY],
    );
    const ema = new QueueDepthEma(EMA_OPTIONS, s?.value);
    const value = ema.sample(now, d!.n);
    await tx.query(
      `INSERT INTO baton.architect_state (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value`,
      [EMA_KEY, JSON.stringify(ema.state)],
    );
    return value;
  });
}

/** `baton sla status`: open tasks with their SLA status, compliance and p95 per type, queue depth. */
export interface SlaReport {
  readonly now: string;
  readonly tasks: readonly (SlaStatus & { status: string; session: string | null; paused: boolean })[];
  readonly compliance: Record<string, Record<SlaWindow, WindowStats>>;
  readonly queue_depth: number;
  readonly queue_depth_ema: number | null;
  readonly open_alerts: readonly StoredAlert[];
}

export async function slaReport(ctx: ArchitectContext): Promise<SlaReport> {
  const { sla } = ctx.rules();
  const now = ctx.now();
  const open = await openTasks(ctx);
  const tasks = open.flatMap((row) => {
    const s = slaStatus(sla, toSlaTask(row), now);
    return s
      ? [
          {
            ...s,
            status: row.status,
            session: row.assigned_session,
            paused: row.pauses.some((p) => p.to === undefined),
          },
        ]
      : [];
  });
  const finished = await ctx.driver.query<TaskRow>(
    `SELECT ${TASK_COLUMNS} FROM baton.architect_tasks WHERE ended_at > $1`,
    [now - 7 * 86_400_000],
  );
  const compliance = slaMetrics(
    sla,
    finished.map((r) => ({ ...toSlaTask(r), ended_at: r.ended_at! })),
    now,
  );
  const [s] = await ctx.driver.query<{ value: QueueDepthEmaState }>(
    'SELECT value FROM baton.architect_state WHERE key = $1',
    [EMA_KEY],
  );
  const ema = s ? new QueueDepthEma(EMA_OPTIONS, s.value).value : null;
  const alertRows = await ctx.driver.query<AlertRow>(
    `SELECT ${ALERT_COLUMNS} FROM baton.architect_alerts WHERE cleared_at IS NULL ORDER BY id`,
  );
  return {
    now: iso(now)!,
    tasks,
    compliance,
    queue_depth: open.filter((r) => r.status === 'pending').length,
    queue_depth_ema: ema,
    open_alerts: alertRows.map(storedAlert),
  };
}
