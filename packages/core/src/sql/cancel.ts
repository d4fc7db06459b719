import type { Queryable } from '../driver/types.js';
import type { ExecutionStatus } from '../execution.js';
import { wakeParentsSql } from './parents.js';

/**
 * Cancels an execution and every descendant still open (activities, child workflows, theirs): a
 * queued or waiting one at once, a running one by request (its worker aborts its AbortSignal, on
 * NOTIFY or at its next heartbeat). With `descendantsOnly` the root itself is left alone (a
 * workflow past its timeout fails; what it started is cancelled). Returns the root's status after
 * the cancel when it was open, and how many executions were cancelled or asked to stop.
 */
export async function cancelTree(
  db: Queryable,
  rootId: string,
  descendantsOnly = false,
): Promise<{ root: ExecutionStatus | undefined; count: number }> {
  const [r] = await db.query<{ root: ExecutionStatus | null; count: number }>(
    `WITH RECURSIVE tree AS (
       SELECT id, 0 AS depth FROM baton.executions WHERE id = $1
       UNION SELECT e.id, t.depth + 1 FROM baton.executions e JOIN tree t ON e.parent_id = t.id
     ),
     c AS (
       UPDATE baton.executions
       SET status = CASE WHEN status = 'running' THEN status ELSE 'cancelled' END,
           claimable = false,
           cancel_requested = true,
           finished_at = CASE WHEN status = 'running' THEN finished_at ELSE now() END
       WHERE id IN (SELECT id FROM tree WHERE depth > 0 OR NOT $2) AND status IN ('queued', 'running', 'waiting')
       RETURNING id, status, CASE WHEN status = 'cancelled' THEN parent_id END AS parent_id
     ),
     woken AS (${wakeParentsSql('c')})
     SELECT (SELECT status FROM c WHERE id = $1) AS root, (SELECT count(pg_notify('baton_cancel', id))::int FROM c) AS count`,
    [rootId, descendantsOnly],
  );
  return { root: r.root ?? undefined, count: r.count };
}
