/**
 * The NOTIFY that wakes workers when work is enqueued, on channel `baton_work`. Its payload
 * says which queue, when the earliest new execution is due (so a worker can set a timer for a
 * delayed job instead of polling for it), and whether any carries a concurrency key (so workers
 * run the slower limited claim path only when it can find something).
 */
export interface Wakeup {
  queue: string;
  /** Epoch ms of the earliest new execution's run_at. */
  dueAtMs: number | undefined;
  keyed: boolean;
}

export const WAKEUP_CHANNEL = 'baton_work';

/** SQL that sends one wake-up per queue for the rows of `source` (needs columns queue, run_at, concurrency_key). */
export function wakeupSql(source: string): string {
  return `SELECT count(pg_notify('${WAKEUP_CHANNEL}', p)) AS n FROM (
    SELECT json_build_object('q', queue, 'at', floor(extract(epoch FROM min(run_at)) * 1000),
                             'k', bool_or(concurrency_key IS NOT NULL))::text AS p
    FROM ${source} GROUP BY queue) wake`;
}

/**
 * An expression that wakes the workers of one row's queue (the row of `alias`, e.g. in an UPDATE's
 * RETURNING list, which runs for every row the statement changes whether or not anything reads it).
 */
export function notifyRowSql(alias: string): string {
  return `pg_notify('${WAKEUP_CHANNEL}', json_build_object('q', ${alias}.queue,
    'at', floor(extract(epoch FROM ${alias}.run_at) * 1000), 'k', ${alias}.concurrency_key IS NOT NULL)::text)`;
}

/**
 * SQL that wakes the workers of the queues named by the text[] parameter `param` because a slot of
 * a global limit (queue concurrency or concurrency key) was freed: a claim that came back short for
 * want of a slot can try again now instead of at its next poll.
 */
export function slotFreedSql(param: string): string {
  return `SELECT count(pg_notify('${WAKEUP_CHANNEL}', json_build_object('q', q, 'k', true)::text)) AS n
    FROM unnest(${param}::text[]) q`;
}

export function parseWakeup(payload: string): Wakeup | undefined {
  try {
    const v = JSON.parse(payload) as { q?: unknown; at?: unknown; k?: unknown };
    if (typeof v.q !== 'string') return undefined;
    return { queue: v.q, dueAtMs: typeof v.at === 'number' ? v.at : undefined, keyed: v.k === true };
  } catch {
    return undefined;
  }
}
