import { replayStateSql, type ReplayStateRow } from '../workflow/history.js';
import type { Queryable, Driver } from '../driver/types.js';

/** A claimed execution as the worker needs it. */
export interface ClaimedRow {
  id: string;
  name: string;
  queue: string;
  priority: number;
  input: unknown;
  attempts: number;
  max_attempts: number;
  /** True when the claim took a slot of a global limit (limited path). */
  holds_slot: boolean;
  /** An activity or child workflow, whose parent waits for it. */
  has_parent: boolean;
  /** A workflow's timeout: past this moment its run fails with E_TIMEOUT. */
  deadline_at: Date | null;
  /** Which run of its workflow id this is (ctx.continueAsNew starts the next). */
  run: number;
  /** The trace context it was enqueued in (telemetry/trace.ts), or null. */
  trace_context: string | null;
  /** A workflow's replay state as the claim read it (null for a job, and for rows claimed another way). */
  replay?: ReplayStateRow | null;
  /** Set when the execution was inserted already claimed by this worker: its history is empty. */
  startedHere?: { createdAt: Date };
}

/**
 * A CTE `me`: the claiming worker's registration, locked until the claim commits (decision 0008). A worker declared dead claims
 * nothing until it has registered again, and recovery, which deletes the registration and then
 * requeues what the worker holds, waits for claims in flight: none of them can commit rows leased
 * to a worker that recovery has already swept.
 */
export const lockWorkerSql = (workerParam: string) =>
  `me AS (SELECT id FROM baton.workers WHERE id = ${workerParam} FOR KEY SHARE)`;

// A claimed workflow comes back with what its run replays from (replayStateSql), which saves the run a
// round trip of its own; a job's `replay` is null.
const RETURNING = `e.id, e.name, e.queue, e.priority, e.input, e.attempts, e.max_attempts, e.holds_slot,
  e.parent_id IS NOT NULL AS has_parent, e.deadline_at, e.run, e.trace_context,
  CASE WHEN e.kind = 'workflow' THEN ${replayStateSql('e')} END AS replay`;

/**
 * The fast path: claims up to `limit` due jobs of unlimited queues that carry no concurrency key,
 * in one statement: pick with SKIP LOCKED, mark running under this worker, return them.
 *
 * Rows that are claimable but not yet due (delayed jobs, retry back-offs, workflows waiting on a
 * timer) share the claim index with due ones. Its order is priority first, so a plain `run_at <=
 * now()` filter reads every not-yet-due row of a priority before it can stop: a queue with 10,000
 * sleeping workflows cost 3 ms per claim. Instead the claim visits each priority that has claimable
 * rows (one index probe each, a loose index scan) and reads only the due rows of each (a range the
 * index ends at now()). Cost: one probe per distinct priority in the queue (decision 0016).
 */
export function claimUnlimited(
  db: Queryable,
  workerId: string,
  queues: readonly string[],
  names: readonly string[],
  limit: number,
): Promise<ClaimedRow[]> {
  const matches = `claimable AND concurrency_key IS NULL AND name = ANY($2::text[]) AND run_at <= now()`;
  return db.query<ClaimedRow>(
    `WITH RECURSIVE ${lockWorkerSql('$4')},
     levels AS (
       SELECT q.queue, (SELECT e.priority FROM baton.executions e WHERE e.claimable AND e.queue = q.queue
                        ORDER BY e.priority DESC LIMIT 1) AS priority
       FROM unnest($1::text[]) AS q(queue)
       UNION ALL
       SELECT l.queue, (SELECT e.priority FROM baton.executions e
                        WHERE e.claimable AND e.queue = l.queue AND e.priority < l.priority
                        ORDER BY e.priority DESC LIMIT 1)
       FROM levels l WHERE l.priority IS NOT NULL
     ),
     -- Twice the rows wanted: a claim running beside this one (the worker keeps two in flight
     -- on a deep queue, and other workers claim too) reads the same first rows without locks, and
     -- those it locks first are skipped below; without spares this claim came back short, and a
     -- short claim means an empty queue to the worker, which then idled until its next poll.
     due AS (
       SELECT d.ctid FROM levels l, LATERAL (
         SELECT ctid, priority, run_at, id FROM baton.executions
         WHERE queue = l.queue AND priority = l.priority AND ${matches}
         ORDER BY run_at, id LIMIT 2 * $3
       ) d
       ORDER BY d.priority DESC, d.run_at, d.id
       LIMIT 2 * $3
     ),
     -- Read without locks above; locked here, where every condition is checked again on the row
     -- as it is now (another worker may have claimed or rescheduled it meanwhile). The check is
     -- one IS TRUE so that no index can serve it: the rows are fetched by ctid, not found again by
     -- an index scan past the not-yet-due rows.
     picked AS (
       SELECT ctid FROM baton.executions
       WHERE ctid = ANY(ARRAY(SELECT ctid FROM due)) AND (queue = ANY($1::text[]) AND ${matches}) IS TRUE
         AND EXISTS (SELECT 1 FROM me)
       ORDER BY priority DESC, run_at, id
       LIMIT $3
       FOR UPDATE SKIP LOCKED
     )
     UPDATE baton.executions e
     SET status = 'running', claimable = false, attempts = e.attempts + 1, lease_owner = $4, started_at = now()
     -- The rows are locked, so their ctid is stable: joining on it skips a primary-key lookup per row.
     FROM picked WHERE e.ctid = picked.ctid
     RETURNING ${RETURNING}`,
    [queues, names, limit, workerId],
    'baton_claim',
  );
}

/**
 * Executions leased to this worker that it does not know about (`known`): after a claim whose
 * reply was lost (the connection died between the server's COMMIT and the answer), these are what
 * that claim took. Running rows have no index (decision 0006), so this scans; it runs only after a
 * claim failed on a connection error.
 */
export function ownedButUnknown(
  db: Queryable,
  workerId: string,
  known: readonly string[],
): Promise<ClaimedRow[]> {
  return db.query<ClaimedRow>(
    `SELECT ${RETURNING} FROM baton.executions e
     WHERE e.lease_owner = $1 AND e.status = 'running' AND NOT (e.id = ANY($2::text[]))`,
    [workerId, known],
  );
}

interface QueueLimitRow {
  name: string;
  concurrency_limit: number | null;
  rate_limit: number | null;
  rate_interval_ms: number | null;
  tokens: number | null;
  age_ms: number | null;
  running: number;
}

interface Candidate {
  id: string;
  queue: string;
  concurrency_key: string | null;
  concurrency_limit: number | null;
}

/**
 * The limited path, for queues with a global concurrency or rate limit and for jobs with a
 * concurrency key. Candidates are picked with SKIP LOCKED; then every affected queue and key is
 * serialised with a transaction-scoped advisory lock, the running counts (rows that hold a slot) are read after the lock
 * (a fresh snapshot), and only what fits is claimed. Whoever claims the same key next waits for
 * this commit and then sees these rows running, so a limit holds across all workers.
 *
 * Returns the claimed rows and, when a rate limit held work back, how long until a token frees.
 */
export async function claimLimited(
  driver: Driver,
  workerId: string,
  limitedQueues: readonly string[],
  unlimitedQueues: readonly string[],
  names: readonly string[],
  limit: number,
): Promise<{ rows: ClaimedRow[]; retryInMs: number | undefined }> {
  return driver.transaction(async (tx) => {
    // Each key contributes at most `concurrency_limit` candidates so that one busy key cannot hide others.
    const candidates = await tx.query<Candidate>(
      `SELECT e.id, e.queue, e.concurrency_key, e.concurrency_limit FROM baton.executions e
       WHERE e.id IN (
         SELECT id FROM (
           SELECT id, priority, run_at, concurrency_key, concurrency_limit,
                  row_number() OVER (PARTITION BY concurrency_key ORDER BY priority DESC, run_at, id) AS rank
           FROM baton.executions
           WHERE claimable AND run_at <= now() AND name = ANY($3::text[])
             AND (queue = ANY($1::text[]) OR (queue = ANY($2::text[]) AND concurrency_key IS NOT NULL))
         ) c
         WHERE concurrency_key IS NULL OR rank <= coalesce(concurrency_limit, 1)
         ORDER BY priority DESC, run_at, id
         LIMIT $4
       ) AND e.claimable
       ORDER BY e.priority DESC, e.run_at, e.id
       FOR UPDATE SKIP LOCKED`,
      [limitedQueues, unlimitedQueues, names, limit * 4],
    );
    if (candidates.length === 0) return { rows: [], retryInMs: undefined };

    const queues = [...new Set(candidates.map((c) => c.queue).filter((q) => limitedQueues.includes(q)))];
    const keys = [
      ...new Set(candidates.map((c) => c.concurrency_key).filter((k): k is string => k !== null)),
    ];
    const lockNames = [...queues.map((q) => `queue:${q}`), ...keys.map((k) => `key:${k}`)].sort();
    // Locks are taken one statement per name, in sorted order, so two claimers never deadlock.
    for (const lockName of lockNames) {
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7460312))', [`baton.${lockName}`]);
    }

    const queueRows = await tx.query<QueueLimitRow>(
      `SELECT q.name, q.concurrency_limit, q.rate_limit, q.rate_interval_ms, q.tokens,
              (extract(epoch FROM now() - q.tokens_at) * 1000)::float8 AS age_ms,
              (SELECT count(*)::int FROM baton.executions e WHERE e.holds_slot AND e.queue = q.name) AS running
       FROM baton.queues q WHERE q.name = ANY($1::text[])`,
      [queues],
    );
    const keyRows = await tx.query<{ key: string; running: number }>(
      `SELECT concurrency_key AS key, count(*)::int AS running FROM baton.executions
       WHERE holds_slot AND concurrency_key = ANY($1::text[]) GROUP BY concurrency_key`,
      [keys],
    );

    const queueBudget = new Map<string, { slots: number; tokens: number; rate: QueueLimitRow }>();
    let retryInMs: number | undefined;
    for (const q of queueRows) {
      const slots = q.concurrency_limit === null ? Infinity : Math.max(0, q.concurrency_limit - q.running);
      let tokens = Infinity;
      if (q.rate_limit !== null && q.rate_interval_ms !== null) {
        const refill = ((q.age_ms ?? Infinity) * q.rate_limit) / q.rate_interval_ms;
        tokens = Math.min(q.rate_limit, (q.tokens ?? q.rate_limit) + refill);
      }
      queueBudget.set(q.name, { slots, tokens, rate: q });
    }
    const keyRunning = new Map(keyRows.map((r) => [r.key, r.running]));

    const chosen: string[] = [];
    for (const c of candidates) {
      if (chosen.length >= limit) break;
      const qb = queueBudget.get(c.queue);
      if (qb && (qb.slots < 1 || qb.tokens < 1)) continue;
      if (c.concurrency_key !== null) {
        const running = keyRunning.get(c.concurrency_key) ?? 0;
        if (running >= (c.concurrency_limit ?? 1)) continue;
        keyRunning.set(c.concurrency_key, running + 1);
      }
      if (qb) {
        qb.slots -= 1;
        qb.tokens -= 1;
      }
      chosen.push(c.id);
    }

    for (const [name, qb] of queueBudget) {
      const { rate_limit: limitN, rate_interval_ms: intervalMs } = qb.rate;
      if (limitN === null || intervalMs === null) continue;
      await tx.query('UPDATE baton.queues SET tokens = $2, tokens_at = now() WHERE name = $1', [
        name,
        qb.tokens,
      ]);
      if (qb.tokens < 1) {
        const wait = Math.ceil(((1 - qb.tokens) * intervalMs) / limitN);
        retryInMs = retryInMs === undefined ? wait : Math.min(retryInMs, wait);
      }
    }

    if (chosen.length === 0) return { rows: [], retryInMs };
    const rows = await tx.query<ClaimedRow>(
      `WITH ${lockWorkerSql('$2')}
       UPDATE baton.executions e
       SET status = 'running', claimable = false, holds_slot = true, attempts = e.attempts + 1,
           lease_owner = $2, started_at = now()
       WHERE e.id = ANY($1::text[]) AND e.claimable AND EXISTS (SELECT 1 FROM me)
       RETURNING ${RETURNING}`,
      [chosen, workerId],
    );
    return { rows, retryInMs };
  });
}
