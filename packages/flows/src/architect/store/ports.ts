// Port leases for task environments: unique across every task and process (the port is the primary
// key), held for the task's lifetime and freed when it ends.
import type { Queryable } from '@baton/core';

/**
 * Leases the lowest free port of `[low, high]` to `taskId`, or returns null when the range is
 * exhausted. A task that holds a port keeps it (a reassignment does not move its environment).
 */
export async function leasePort(
  tx: Queryable,
  taskId: string,
  [low, high]: readonly [number, number],
  now: number,
): Promise<number | null> {
  const rows = await tx.query<{ port: number }>(
    `WITH held AS (SELECT port FROM baton.architect_port_leases WHERE task_id = $1),
          free AS (SELECT p AS port FROM generate_series($2::int, $3::int) p
                   WHERE NOT EXISTS (SELECT 1 FROM baton.architect_port_leases l WHERE l.port = p)
                   ORDER BY p LIMIT 1),
          taken AS (INSERT INTO baton.architect_port_leases (port, task_id, leased_at)
                    SELECT port, $1, $4 FROM free WHERE NOT EXISTS (SELECT 1 FROM held)
                    RETURNING port)
     SELECT port FROM held UNION ALL SELECT port FROM taken`,
    [taskId, low, high, now],
  );
  return rows[0]?.port ?? null;
}

/** Frees the port `taskId` holds, if any. Idempotent: the task's workflow frees it again at its end. */
export async function releasePorts(tx: Queryable, taskIds: readonly string[]): Promise<void> {
  if (taskIds.length === 0) return;
  await tx.query('DELETE FROM baton.architect_port_leases WHERE task_id = ANY($1::text[])', [taskIds]);
}
