// The SLA clock of one task: how long it has been running against its target, paused time excluded.
// Times are milliseconds since the epoch and `now` is an argument, so the clock is pure and tests
// control it.

/** Where the SLA clock of a task type starts: at the task's creation (the default) or at its first start. */
export type MeasureFrom = 'created' | 'started';

/** A span during which the SLA clock stood still (`baton tasks pause`); `to` is absent while it lasts. */
export interface SlaPause {
  readonly from: number;
  readonly to?: number;
}

/** The times of a task the SLA clock reads, in ms since the epoch. */
export interface TaskTimes {
  readonly created_at: number;
  /** When a session first started it; absent while it waits. */
  readonly started_at?: number;
  /** When it completed, failed or was cancelled; its clock stops there. */
  readonly ended_at?: number;
  /** Pauses, in any order; they may overlap and the last may be open. */
  readonly pauses?: readonly SlaPause[];
}

/**
 * Milliseconds of a task's SLA clock at `now`.
 *
 * The clock runs from the task's creation by default: what an SLA promises is how long the requester
 * waits, and time spent queued for a free session is part of that wait. A target with
 * `measure_from: started` counts from the first start instead (for types whose queueing the team
 * does not answer for); such a task has used 0 ms until it starts, and pauses before its start are
 * ignored.
 *
 * The clock stops at `ended_at` (or `now`, whichever is earlier). Paused time inside the measured span
 * is subtracted once, even where pauses overlap; an open pause lasts until the end of the span. A pause
 * whose `to` precedes its `from` is empty.
 */
export function elapsedMs(task: TaskTimes, now: number, measureFrom: MeasureFrom = 'created'): number {
  const start = measureFrom === 'started' ? task.started_at : task.created_at;
  if (start === undefined) return 0;
  const end = Math.min(task.ended_at ?? now, now);
  if (end <= start) return 0;
  return end - start - pausedWithin(task.pauses ?? [], start, end);
}

/** Total length of the union of `pauses`, clipped to [start, end]. */
function pausedWithin(pauses: readonly SlaPause[], start: number, end: number): number {
  const spans = pauses
    .map((p): [number, number] => [Math.max(p.from, start), Math.min(p.to ?? end, end)])
    .filter(([from, to]) => to > from)
    .sort((a, b) => a[0] - b[0]);
  let total = 0;
  let coveredTo = start;
  for (const [from, to] of spans) {
    const lo = Math.max(from, coveredTo);
    if (to > lo) total += to - lo;
    coveredTo = Math.max(coveredTo, to);
  }
  return total;
}
