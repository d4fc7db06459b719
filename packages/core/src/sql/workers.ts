import type { Driver, Queryable } from '../driver/types.js';
import { wakeParentsSql } from './parents.js';
import { wakeupSql } from '../wakeup.js';

export interface WorkerRegistration {
  id: string;
  hostname: string;
  pid: number;
  queues: readonly string[];
  names: readonly string[];
  leaseMs: number;
}

/** Registers (or re-registers, after being declared dead) a live worker. */
export async function registerWorker(db: Queryable, w: WorkerRegistration): Promise<void> {
  await db.query(
    `INSERT INTO baton.workers (id, hostname, pid, queues, names, lease_ms) VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = now(), queues = excluded.queues, names = excluded.names`,
    [w.id, w.hostname, w.pid, w.queues, w.names, w.leaseMs],
  );
}

/** Records the names (with queues and workflow timeouts) a worker runs, so clients can enqueue and start them by name. */
export async function registerDefinitions(
  db: Queryable,
  defs: readonly { name: string; queue: string; kind: 'job' | 'workflow'; timeoutMs?: number | null }[],
): Promise<void> {
  await db.query(
    `INSERT INTO baton.definitions (kind, name, queue, timeout_ms)
     SELECT k, n, q, t FROM unnest($1::text[], $2::text[], $3::text[], $4::float8[]) AS x(k, n, q, t)
     ON CONFLICT (kind, name) DO UPDATE SET queue = excluded.queue, timeout_ms = excluded.timeout_ms, updated_at = now()`,
    [
      defs.map((d) => d.kind),
      defs.map((d) => d.name),
      defs.map((d) => d.queue),
      defs.map((d) => d.timeoutMs ?? null),
    ],
  );
}

/**
 * Renews this worker's lease, which covers every execution it runs, and returns the ids among
 * `running` whose cancellation was requested (the fallback when NOTIFY does not arrive).
 * `alive` is false when another worker already declared this one dead.
 */
export async function heartbeat(
  db: Queryable,
  workerId: string,
  running: readonly string[],
): Promise<{ alive: boolean; cancelled: string[] }> {
  const rows = await db.query<{ alive: boolean; cancelled: string[] | null }>(
    `WITH hb AS (UPDATE baton.workers SET heartbeat_at = now() WHERE id = $1 RETURNING id)
     SELECT EXISTS (SELECT 1 FROM hb) AS alive,
            (SELECT array_agg(id) FROM baton.executions
             WHERE id = ANY($2::text[]) AND cancel_requested AND status = 'running') AS cancelled`,
    [workerId, running],
    'baton_heartbeat',
  );
  return { alive: rows[0].alive, cancelled: rows[0].cancelled ?? [] };
}

/** Stores progress reported through ctx.heartbeat(progress). */
export async function saveProgress(
  db: Queryable,
  workerId: string,
  progress: Map<string, string>,
): Promise<void> {
  if (progress.size === 0) return;
  const byId = `{${[...progress].map(([id, p]) => `${JSON.stringify(id)}:${p}`).join(',')}}`;
  await db.query(
    `UPDATE baton.executions e SET progress = $2::jsonb -> e.id
     WHERE e.id = ANY($1::text[]) AND e.lease_owner = $3 AND e.status = 'running'`,
    [[...progress.keys()], byId, workerId],
  );
}

export async function unregisterWorker(db: Queryable, workerId: string): Promise<void> {
  await db.query('DELETE FROM baton.workers WHERE id = $1', [workerId]);
}

const REQUEUE_LOST = `
  SET status = (CASE WHEN e.cancel_requested THEN 'cancelled'
                     WHEN e.attempts >= e.max_attempts THEN 'failed' ELSE 'queued' END)::baton.execution_status,
      claimable = NOT e.cancel_requested AND e.attempts < e.max_attempts,
      holds_slot = false,
      finished_at = CASE WHEN e.cancel_requested OR e.attempts >= e.max_attempts THEN now() ELSE NULL END,
      error = jsonb_build_object('code', 'E_LEASE_EXPIRED', 'message',
                'worker ' || e.lease_owner || ' stopped renewing its lease during attempt ' || e.attempts,
                'attempt', e.attempts, 'at', now()),
      errors = coalesce(e.errors, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('code', 'E_LEASE_EXPIRED',
                'message', 'worker ' || e.lease_owner || ' stopped renewing its lease during attempt ' || e.attempts,
                'attempt', e.attempts, 'at', now())),
      lease_owner = NULL`;

// What recovery returns per execution: enough to wake a waiting parent and the workers of the
// queue, which claim requeued work (and freed limit slots) at once rather than at their next poll.
const LOST_COLUMNS = `e.id, e.status, e.queue, e.run_at, e.concurrency_key,
  CASE WHEN e.status IN ('failed', 'cancelled') THEN e.parent_id END AS parent_id`;

/**
 * Any worker runs this periodically; no control plane is needed. Workers whose lease expired
 * are removed and what they were running is put back in the queue, or failed when it has no
 * attempts left, or cancelled when that was requested — in one transaction, so a crash in
 * between cannot strand it. Returns the executions recovered.
 */
export async function recoverExpired(driver: Driver): Promise<{ id: string; status: string }[]> {
  return driver.transaction(async (tx) => {
    const dead = await tx.query<{ id: string }>(
      `DELETE FROM baton.workers WHERE heartbeat_at < now() - lease_ms * interval '1 millisecond' RETURNING id`,
      [],
      'baton_expire_workers',
    );
    if (dead.length === 0) return [];
    // Running rows have no index of their own (it would cost every claim an index write); a worker
    // dying is rare enough for this scan.
    return tx.query<{ id: string; status: string }>(
      `WITH lost AS (
         UPDATE baton.executions e ${REQUEUE_LOST}
         WHERE e.status = 'running' AND e.lease_owner = ANY($1::text[])
         RETURNING ${LOST_COLUMNS}
       ),
       woken AS (${wakeParentsSql('lost')})
       SELECT id, status, (${wakeupSql('lost')}) AS notified FROM lost`,
      [dead.map((d) => d.id)],
    );
  });
}

/**
 * The safety net behind recoverExpired: running executions whose owner is not registered at
 * all (for example a worker that unregistered while its last writes failed). Run rarely.
 */
export async function recoverOrphans(
  db: Queryable,
  olderThanMs: number,
): Promise<{ id: string; status: string }[]> {
  // Only rows started long ago: a worker declared dead re-registers at its next heartbeat, and
  // its newest claims must not be taken from it meanwhile.
  return db.query(
    `WITH lost AS (
       UPDATE baton.executions e ${REQUEUE_LOST}
       WHERE e.status = 'running' AND e.started_at < now() - $1::float8 * interval '1 millisecond'
         AND NOT EXISTS (SELECT 1 FROM baton.workers w WHERE w.id = e.lease_owner)
       RETURNING ${LOST_COLUMNS}
     ),
     woken AS (${wakeParentsSql('lost')})
     SELECT id, status, (${wakeupSql('lost')}) AS notified FROM lost`,
    [olderThanMs],
  );
}
