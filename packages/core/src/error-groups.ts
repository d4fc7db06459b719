// Failed executions grouped by what went wrong (the error's code and message), for the dashboard's
// error aggregation and GET /api/errors: how often, in which names, when last, and one example.
// Grouped by the database over every failure (not a page of them), so counts stay true however many
// there are; no index covers failed rows, so it is one scan of the executions (decision 0006).
import type { Queryable } from './driver/types.js';

export interface ErrorGroup {
  /** The error's code, else its class name; null when it had neither. */
  code: string | null;
  /** Its message, cut at 1,000 characters; null when it had none. */
  message: string | null;
  count: number;
  /** When the newest failure of the group finished. */
  lastSeenAt: Date;
  /** The names that failed this way, at most 10, alphabetical. */
  names: string[];
  /** The newest failure's id. */
  exampleId: string;
}

export interface ErrorGroupFilter {
  /** Only failures that finished at or after this moment. */
  since?: Date;
  /** At most this many groups, the largest first (default 100). */
  limit?: number;
}

const MESSAGE_MAX = 1000;
const NAMES_MAX = 10;

/** Failed executions grouped by error code and message, the largest group first. */
export async function errorGroups(db: Queryable, filter: ErrorGroupFilter = {}): Promise<ErrorGroup[]> {
  const rows = await db.query<{
    code: string | null;
    message: string | null;
    count: string | number;
    last_seen: Date;
    names: string[];
    example: string;
  }>(
    `SELECT code, message, count(*) AS count, max(at) AS last_seen,
            (array_agg(DISTINCT name ORDER BY name))[1:${NAMES_MAX}] AS names,
            (array_agg(id ORDER BY at DESC))[1] AS example
     FROM (SELECT coalesce(error->>'code', error->>'name') AS code,
                  left(error->>'message', ${MESSAGE_MAX}) AS message,
                  coalesce(finished_at, created_at) AS at, name, id
           FROM baton.executions WHERE status = 'failed') f
     WHERE $1::timestamptz IS NULL OR at >= $1
     GROUP BY code, message
     ORDER BY count DESC, last_seen DESC
     LIMIT $2`,
    [filter.since ?? null, filter.limit ?? 100],
  );
  return rows.map((r) => ({
    code: r.code,
    message: r.message,
    count: Number(r.count),
    lastSeenAt: r.last_seen,
    names: r.names,
    exampleId: r.example,
  }));
}
