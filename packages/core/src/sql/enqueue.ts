import type { Queryable } from '../driver/types.js';
import { wakeupSql } from '../wakeup.js';
import { lockWorkerSql } from './claim.js';
import { BatonError } from '../errors.js';

/** One execution to insert. `input` is JSON text, already checked. */
export interface NewExecution {
  id: string;
  kind: 'job' | 'workflow' | 'activity';
  name: string;
  queue: string;
  priority: number;
  /** Epoch ms; null means now (the database's clock). */
  runAtMs: number | null;
  /** Milliseconds from the database's now(); used for relative delays so client clocks do not matter. */
  delayMs: number | null;
  maxAttempts: number;
  input: string;
  idempotencyKey: string | null;
  concurrencyKey: string | null;
  concurrencyLimit: number | null;
  parentId: string | null;
  /** Workflows: fail with E_TIMEOUT this long after they are due (null: never). */
  timeoutMs?: number | null;
  /**
   * Workflows: inserted suspended (`waiting`), so the first run begins when the row is due or when
   * a signal arrives, whichever comes first (a signal makes a waiting workflow due at once).
   */
  startsWaiting?: boolean;
  /** The trace context it was enqueued in (telemetry/trace.ts), or null. */
  traceContext?: string | null;
}

/**
 * A moment as text PostgreSQL reads exactly (to_timestamp() goes through a float and can be a few
 * microseconds off for distant dates). Years past 9999 lose the sign and zeros ISO puts before them.
 */
function timestampText(ms: number): string {
  const iso = new Date(ms).toISOString();
  return iso.startsWith('+') ? iso.slice(1).replace(/^0+/, '') : iso;
}

/** The rows of an insert as one JSON parameter, read back by recordset(). */
export function recordsetJson(rows: readonly NewExecution[]): string {
  return JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      name: r.name,
      queue: r.queue,
      priority: r.priority,
      run_at: r.runAtMs === null ? null : timestampText(r.runAtMs),
      delay_ms: r.delayMs,
      max_attempts: r.maxAttempts,
      input: r.input,
      idempotency_key: r.idempotencyKey,
      concurrency_key: r.concurrencyKey,
      concurrency_limit: r.concurrencyLimit,
      parent_id: r.parentId,
      timeout_ms: r.timeoutMs ?? null,
      status: r.startsWaiting ? 'waiting' : 'queued',
      trace_context: r.traceContext ?? null,
    })),
  );
}

const COLUMNS = `id, kind, name, queue, priority, run_at, max_attempts, input, idempotency_key, concurrency_key,
  concurrency_limit, parent_id, timeout_ms, deadline_at, trace_context`;

/** When the row is due: its runAt, its delay from the database's now, or now. */
const DUE = `CASE WHEN run_at IS NOT NULL THEN run_at::timestamptz
       WHEN delay_ms IS NOT NULL THEN now() + delay_ms * interval '1 millisecond'
       ELSE now() END`;

// A timeout counts from when the workflow is due; a runAt in the past means now.
const VALUES = `id, kind, name, queue, priority, ${DUE},
  max_attempts, input::jsonb, idempotency_key, concurrency_key, concurrency_limit, parent_id, timeout_ms,
  CASE WHEN timeout_ms IS NULL THEN NULL ELSE greatest(${DUE}, now()) + timeout_ms * interval '1 millisecond' END,
  trace_context`;

const recordset = (param: string) => `jsonb_to_recordset(${param}::jsonb) AS r(
  id text, kind baton.execution_kind, name text, queue text, priority int, run_at text, delay_ms float8,
  max_attempts int, input text, idempotency_key text, concurrency_key text, concurrency_limit int,
  parent_id text, timeout_ms float8, status baton.execution_status, trace_context text)`;

const SKIP_DUPLICATES = 'ON CONFLICT (name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING';

/**
 * The CTEs `ins` (the rows of parameter `param`, made by recordsetJson, inserted unless their
 * idempotency key exists; `where` may add a condition) and `woken` (their queues' workers woken;
 * reference it, or PostgreSQL skips it).
 */
export const insertSql = (param: string, where = '') => `ins AS (
       INSERT INTO baton.executions (${COLUMNS}, status)
       SELECT ${VALUES}, status FROM ${recordset(param)} ${where}
       ${SKIP_DUPLICATES}
       RETURNING id, queue, run_at, concurrency_key
     ),
     woken AS (${wakeupSql('ins')})`;

/**
 * Inserts executions in one round trip and wakes the workers of their queues in the same
 * statement. Rows whose (name, idempotency key) exists already are not inserted; the ids of the
 * existing rows are returned for them instead, with `inserted = false`. Results are in the order
 * of `rows`.
 */
export async function insertExecutions(
  db: Queryable,
  rows: readonly NewExecution[],
): Promise<{ id: string; inserted: boolean }[]> {
  const inserted = await db.query<{ id: string }>(
    `WITH ${insertSql('$1')}
     SELECT id, (SELECT n FROM woken) AS woken FROM ins`,
    [recordsetJson(rows)],
    'baton_enqueue',
  );
  const created = new Set(inserted.map((r) => r.id));
  if (created.size === rows.length) return rows.map((r) => ({ id: r.id, inserted: true }));

  // Only rows with an idempotency key can have been skipped: find what they collided with (an
  // earlier row of this batch, or a row already stored).
  const firstInBatch = new Map<string, string>();
  for (const r of rows) if (created.has(r.id)) firstInBatch.set(`${r.name}\0${r.idempotencyKey}`, r.id);
  const missing = rows.filter(
    (r) => !created.has(r.id) && !firstInBatch.has(`${r.name}\0${r.idempotencyKey}`),
  );
  const stored = new Map<string, string>();
  if (missing.length > 0) {
    const found = await db.query<{ id: string; name: string; key: string }>(
      `SELECT e.id, e.name, e.idempotency_key AS key FROM baton.executions e
       JOIN unnest($1::text[], $2::text[]) AS k(name, key) ON e.name = k.name AND e.idempotency_key = k.key`,
      [missing.map((r) => r.name), missing.map((r) => r.idempotencyKey)],
    );
    for (const f of found) stored.set(`${f.name}\0${f.key}`, f.id);
  }
  return rows.map((r) => {
    if (created.has(r.id)) return { id: r.id, inserted: true };
    const key = `${r.name}\0${r.idempotencyKey}`;
    const id = firstInBatch.get(key) ?? stored.get(key);
    if (!id) {
      throw new BatonError(
        'E_INVALID_STATE',
        `enqueue of '${r.name}' with idempotency key '${r.idempotencyKey}' conflicted, but the execution it conflicted with was deleted meanwhile; enqueue again`,
      );
    }
    return { id, inserted: false };
  });
}

/**
 * Inserts one execution already claimed by `workerId` (running, first attempt), for a worker in
 * this process that runs it at once: no NOTIFY, no claim, no history to load. Inserts nothing, and
 * returns undefined, when the idempotency key is taken or the worker is not registered (then the
 * caller enqueues as usual). Returns the execution's creation time, which its replays see as the
 * start of `now()`, and its deadline.
 */
export async function insertClaimed(
  db: Queryable,
  row: NewExecution,
  workerId: string,
): Promise<{ createdAt: Date; deadlineAt: Date | null; input: unknown } | undefined> {
  const [r] = await db.query<{
    created_at: Date | string;
    deadline_at: Date | string | null;
    input: unknown;
  }>(
    `WITH ${lockWorkerSql('$2')}
     INSERT INTO baton.executions (${COLUMNS}, status, claimable, attempts, lease_owner, started_at)
     SELECT ${VALUES}, 'running', false, 1, $2, now() FROM ${recordset('$1')}
     WHERE EXISTS (SELECT 1 FROM me)
     ${SKIP_DUPLICATES}
     RETURNING created_at, deadline_at, input`,
    [recordsetJson([row]), workerId],
    'baton_start_here',
  );
  // The input as stored: jsonb orders keys its own way, and a replay reads it from there.
  return r
    ? {
        createdAt: new Date(r.created_at),
        deadlineAt: r.deadline_at === null ? null : new Date(r.deadline_at),
        input: r.input,
      }
    : undefined;
}
