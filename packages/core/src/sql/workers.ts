import type { Queryable } from '../driver/types.js';

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
     ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()`,
    [w.id, w.hostname, w.pid, w.queues, w.names, w.leaseMs],
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
  await db.query(
    `UPDATE baton.executions e SET progress = p.progress::jsonb
     FROM unnest($1::text[], $2::text[]) AS p(id, progress)
     WHERE e.id = p.id AND e.lease_owner = $3 AND e.status = 'running'`,
    [[...progress.keys()], [...progress.values()], workerId],
  );
}

export async function unregisterWorker(db: Queryable, workerId: string): Promise<void> {
  await db.query('DELETE FROM baton.workers WHERE id = $1', [workerId]);
}

/**
 * Any worker runs this periodically; no control plane is needed. Workers whose lease expired
 * are removed, and what they (or any worker no longer registered) were running is put back in
 * the queue, or failed when it has no attempts left, or cancelled when that was requested.
 * Returns how many executions were recovered.
 */
export async function recoverExpired(db: Queryable): Promise<{ id: string; status: string }[]> {
  return db.query(
    `WITH dead AS (
       DELETE FROM baton.workers WHERE heartbeat_at < now() - lease_ms * interval '1 millisecond' RETURNING id
     )
     UPDATE baton.executions e
     SET status = CASE WHEN e.cancel_requested THEN 'cancelled'
                       WHEN e.attempts >= e.max_attempts THEN 'failed' ELSE 'queued' END,
         finished_at = CASE WHEN e.cancel_requested OR e.attempts >= e.max_attempts THEN now() ELSE NULL END,
         error = jsonb_build_object('code', 'E_LEASE_EXPIRED', 'message',
                   'worker ' || e.lease_owner || ' stopped renewing its lease during attempt ' || e.attempts,
                   'attempt', e.attempts, 'at', now()),
         errors = coalesce(e.errors, '[]'::jsonb) || jsonb_build_array(jsonb_build_object('code', 'E_LEASE_EXPIRED',
                   'message', 'worker ' || e.lease_owner || ' stopped renewing its lease during attempt ' || e.attempts,
                   'attempt', e.attempts, 'at', now())),
         lease_owner = NULL
     WHERE e.status = 'running'
       AND (e.lease_owner IN (SELECT id FROM dead)
            OR NOT EXISTS (SELECT 1 FROM baton.workers w WHERE w.id = e.lease_owner))
     RETURNING e.id, e.status`,
  );
}
