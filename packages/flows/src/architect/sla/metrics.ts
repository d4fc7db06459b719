// SLA metrics: compliance and p95 duration per task type over trailing windows, and a smoothed queue
// depth. Pure: the caller passes the finished tasks and the time.
import { createStream, type IndicatorStream, type StreamSnapshot } from '@baton/ta';
import type { SlaRules } from '../../config/kinds/sla-rules.js';
import { elapsedMs, type TaskTimes } from './clock.js';
import { targetFor } from './evaluate.js';

/** The trailing windows of the compliance report, in ms. */
export const SLA_WINDOWS = { '1h': 3_600_000, '24h': 86_400_000, '7d': 604_800_000 } as const;

/** A window name: `1h`, `24h` or `7d`. */
export type SlaWindow = keyof typeof SLA_WINDOWS;

/** A finished task as the metrics read it. */
export interface FinishedTask extends TaskTimes {
  readonly type: string;
  readonly ended_at: number;
  /** Its final status; `cancelled` tasks are left out (a cancellation is not a service outcome). */
  readonly status?: string;
}

/** Figures of one task type over one window. */
export interface WindowStats {
  /** Tasks that ended in the window. */
  readonly finished: number;
  /** Of those, tasks whose SLA clock stayed within the target. */
  readonly met: number;
  /** met / finished; null when none finished. */
  readonly compliance: number | null;
  /** 95th percentile of their SLA clock in ms (nearest rank); null when none finished. */
  readonly p95_ms: number | null;
}

/**
 * Compliance and p95 duration per task type over the last 1 h, 24 h and 7 d before `now`.
 *
 * A task counts in a window when it ended in `(now − window, now]`. Its duration is its SLA clock
 * (`elapsedMs` at its end, with its target's `measure_from` and pauses excluded), so the p95 compares
 * directly with the target; it met the SLA when that duration is at most the target. Types without a
 * target (no entry and no `default`) are left out; types that use `default` are reported under their
 * own name.
 *
 * The windows are spans of time, not counts of tasks, and @baton/ta has no percentile kernel (its
 * windows count bars), so both figures are computed here directly: the p95 is the nearest-rank
 * percentile, always a duration that occurred.
 */
export function slaMetrics(
  rules: SlaRules,
  tasks: readonly FinishedTask[],
  now: number,
): Record<string, Record<SlaWindow, WindowStats>> {
  const byType = new Map<string, { ended: number; ms: number; met: boolean }[]>();
  const oldest = now - SLA_WINDOWS['7d'];
  for (const task of tasks) {
    if (task.status === 'cancelled' || task.ended_at > now || task.ended_at <= oldest) continue;
    const target = targetFor(rules, task.type);
    if (!target) continue;
    const ms = elapsedMs(task, task.ended_at, target.measure_from);
    const list = byType.get(task.type) ?? [];
    list.push({ ended: task.ended_at, ms, met: ms <= target.target_minutes * 60_000 });
    byType.set(task.type, list);
  }
  const report: Record<string, Record<SlaWindow, WindowStats>> = {};
  for (const [type, list] of byType) {
    const stats = {} as Record<SlaWindow, WindowStats>;
    for (const [name, span] of Object.entries(SLA_WINDOWS) as [SlaWindow, number][]) {
      const inWindow = list.filter((t) => t.ended > now - span);
      const met = inWindow.filter((t) => t.met).length;
      stats[name] = {
        finished: inWindow.length,
        met,
        compliance: inWindow.length ? met / inWindow.length : null,
        p95_ms: p95(inWindow.map((t) => t.ms)),
      };
    }
    report[type] = stats;
  }
  return report;
}

/** The 95th percentile by nearest rank: the smallest value with at least 95 % of them at or below it. Sorts `values`. */
function p95(values: number[]): number | null {
  if (values.length === 0) return null;
  values.sort((a, b) => a - b);
  return values[Math.ceil((95 * values.length) / 100) - 1]!;
}

/** Options of {@link QueueDepthEma}. */
export interface QueueDepthEmaOptions {
  /** EMA period in intervals (k = 2 / (period + 1)). */
  readonly period: number;
  /** Length of one interval (one EMA bar) in ms. */
  readonly intervalMs: number;
}

/** The durable state of a {@link QueueDepthEma}: plain JSON. */
export interface QueueDepthEmaState {
  readonly stream: StreamSnapshot;
  /** Index of the interval still forming (`floor(at / intervalMs)`); null before the first sample. */
  readonly slot: number | null;
  /** Last depth sampled in that interval. */
  readonly depth: number | null;
}

/**
 * EMA of the queue depth, with @baton/ta's streaming EMA (seeded with the first value, so it has a
 * value from the first sample instead of a warm-up of `period − 1` intervals).
 *
 * Samples may come at any time. Time is cut into intervals of `intervalMs`; the last sample of an
 * interval is its depth, as a closing price is a bar's. An interval with no sample repeats the depth
 * before it, since a queue keeps its depth until something changes it. The value includes the
 * interval still forming (ta's `peek`), so it follows each sample at once. A sample older than the
 * interval forming is ignored: closed intervals do not change.
 */
export class QueueDepthEma {
  private readonly stream: IndicatorStream;
  private readonly intervalMs: number;
  private slot: number | null = null;
  private depth: number | null = null;

  constructor(options: QueueDepthEmaOptions, state?: QueueDepthEmaState) {
    this.stream = createStream('ema', { period: options.period, seed: 1 });
    this.intervalMs = options.intervalMs;
    if (state) {
      this.stream.restore(state.stream);
      this.slot = state.slot;
      this.depth = state.depth;
    }
  }

  /** Records the queue depth at time `at` (ms) and returns the EMA. */
  sample(at: number, depth: number): number {
    const slot = Math.floor(at / this.intervalMs);
    if (this.slot !== null && this.depth !== null && slot > this.slot) {
      // Past ~20 periods the old state weighs (1 − k)^20p < 1e-17: more repeats change nothing.
      const closed = Math.min(slot - this.slot, 20 * this.stream.params.period!);
      for (let i = 0; i < closed; i++) this.stream.update(this.depth);
    }
    if (this.slot === null || slot >= this.slot) {
      this.slot = slot;
      this.depth = depth;
    }
    return this.value!;
  }

  /** The EMA including the interval forming; null before the first sample. */
  get value(): number | null {
    return this.depth === null ? null : this.stream.peek(this.depth).value!;
  }

  /** The state to store (plain JSON) and pass back to the constructor after a restart. */
  get state(): QueueDepthEmaState {
    return { stream: this.stream.snapshot(), slot: this.slot, depth: this.depth };
  }
}
