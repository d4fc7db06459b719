// Where an execution's time went, from its row and its history: waiting to be due, waiting to be
// claimed, running (a job), and for a workflow each operation, the time it was suspended on sleeps
// and signals, and the engine's own time between operations (claims, wake-ups and replays).
import type { Execution } from './execution.js';
import type { HistoryEntry, HistoryKind } from './workflow/history.js';

/** One durable operation of a workflow, timed. */
export interface OperationTiming {
  seq: number;
  kind: HistoryKind;
  name: string;
  status: string;
  attempts: number;
  /** Offset of its start from the execution's creation. */
  startMs: number;
  /** Null while it waits. */
  durationMs: number | null;
}

/** The figures `baton profile` shows, each in milliseconds. */
export interface ProfileFigures {
  /** Created → due (a delay, a runAt, or the last retry's back-off). */
  scheduled: number;
  /** Due → claimed, for the latest attempt (a job) or the first operation (a workflow, which includes its first claim). */
  claim: number;
  /** A job's latest attempt, claim to end. */
  run: number;
  steps: number;
  activities: number;
  children: number;
  /** Sleeps and signal waits. */
  suspended: number;
  /** A workflow's time between operations not spent in any: wake-ups, claims, replays and its own code. */
  engine: number;
}

export interface ExecutionProfile {
  execution: string;
  name: string;
  kind: Execution['kind'];
  status: Execution['status'];
  attempts: number;
  /** Created → finished (or → now, while it runs). */
  totalMs: number;
  figures: ProfileFigures;
  operations: OperationTiming[];
}

const ms = (a: Date, b: Date) => Math.max(0, b.getTime() - a.getTime());

/**
 * The profile of one execution; `now` ends the open intervals of one still running. With the
 * workflow's `children` (activities and child workflows), each of those counts until the child
 * ended, and the time until the workflow took its result counts as the engine's.
 */
export function profileExecution(
  e: Execution,
  history: readonly HistoryEntry[],
  children: readonly Execution[] = [],
  now = new Date(),
): ExecutionProfile {
  const childEnd = new Map(children.map((c) => [c.id, c.finishedAt]));
  // An operation's end: a child's own end when known, else when the workflow recorded it.
  const endOf = (h: HistoryEntry): Date => {
    const id = (h.output as { childId?: unknown } | null)?.childId;
    const own = typeof id === 'string' ? childEnd.get(id) : undefined;
    return own ?? h.finishedAt ?? now;
  };
  const created = e.createdAt;
  const end = e.finishedAt ?? now;
  const figures: ProfileFigures = {
    scheduled: 0,
    claim: 0,
    run: 0,
    steps: 0,
    activities: 0,
    children: 0,
    suspended: 0,
    engine: 0,
  };
  const operations = history.map((h) => ({
    seq: h.seq,
    kind: h.kind,
    name: h.name,
    status: h.status,
    attempts: h.attempts,
    startMs: ms(created, h.startedAt),
    durationMs: h.finishedAt ? ms(h.startedAt, endOf(h)) : null,
  }));
  if (e.kind !== 'workflow') {
    // runAt is the latest attempt's due time (a retry's back-off moves it)
    figures.scheduled = ms(created, e.runAt);
    if (e.startedAt) {
      figures.claim = ms(e.runAt, e.startedAt);
      figures.run = ms(e.startedAt, e.finishedAt ?? now);
    }
  } else {
    // A workflow's runAt moves with each wake-up: its start is measured from its creation.
    const first = history[0];
    figures.claim = first ? ms(created, first.startedAt) : e.startedAt ? ms(created, e.startedAt) : 0;
    const bucket: Partial<Record<HistoryKind, keyof ProfileFigures>> = {
      step: 'steps',
      activity: 'activities',
      child: 'children',
      sleep: 'suspended',
      signal: 'suspended',
    };
    for (const h of history) {
      const key = bucket[h.kind];
      if (key) figures[key] += ms(h.startedAt, endOf(h));
    }
    // Time covered by no operation after the first began (operations may overlap: union, not sum).
    const intervals = history
      .map((h) => [h.startedAt.getTime(), endOf(h).getTime()] as const)
      .sort((a, b) => a[0] - b[0]);
    if (first) {
      let covered = 0;
      let [from, to] = intervals[0]!;
      for (const [s, f] of intervals.slice(1)) {
        if (s > to) {
          covered += to - from;
          [from, to] = [s, f];
        } else to = Math.max(to, f);
      }
      covered += to - from;
      figures.engine = Math.max(0, end.getTime() - first.startedAt.getTime() - covered);
    }
  }
  return {
    execution: e.id,
    name: e.name,
    kind: e.kind,
    status: e.status,
    attempts: e.attempts,
    totalMs: ms(created, end),
    figures,
    operations,
  };
}

/** p50, p90, p99 and max of each figure over many profiles (nearest rank). */
export function profilePercentiles(
  profiles: readonly ExecutionProfile[],
): Record<keyof ProfileFigures | 'total', { p50: number; p90: number; p99: number; max: number }> {
  const keys = [
    'total',
    'scheduled',
    'claim',
    'run',
    'steps',
    'activities',
    'children',
    'suspended',
    'engine',
  ] as const;
  const out = {} as Record<(typeof keys)[number], { p50: number; p90: number; p99: number; max: number }>;
  for (const k of keys) {
    const xs = profiles.map((p) => (k === 'total' ? p.totalMs : p.figures[k])).sort((a, b) => a - b);
    const at = (q: number) => (xs.length ? xs[Math.min(xs.length - 1, Math.ceil(q * xs.length) - 1)]! : 0);
    out[k] = { p50: at(0.5), p90: at(0.9), p99: at(0.99), max: xs.at(-1) ?? 0 };
  }
  return out;
}
