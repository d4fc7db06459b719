import type { Queryable } from '../driver/types.js';

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
}

/**
 * Inserts executions in one round trip and wakes the workers of their queues in the same
 * statement. Rows whose (name, idempotency key) exists already are not inserted; the ids of the
 * existing rows are returned for them instead, with `inserted = false` (`id` is null when the
 * existing row is not visible to this statement: a duplicate inside the batch, or a concurrent insert).
 */
export async function insertExecutions(
  db: Queryable,
  rows: readonly NewExecution[],
): Promise<{ id: string | null; key: string | null; name: string; inserted: boolean }[]> {
  const payload = JSON.stringify(
    rows.map((r) => ({
      id: r.id,
      kind: r.kind,
      name: r.name,
      queue: r.queue,
      priority: r.priority,
      run_at_ms: r.runAtMs,
      delay_ms: r.delayMs,
      max_attempts: r.maxAttempts,
      input: r.input,
      idempotency_key: r.idempotencyKey,
      concurrency_key: r.concurrencyKey,
      concurrency_limit: r.concurrencyLimit,
      parent_id: r.parentId,
    })),
  );
  const found = await db.query<{
    requested_id: string;
    id: string | null;
    key: string | null;
    name: string;
    inserted: boolean;
  }>(
    `WITH src AS (
       SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
         id text, kind text, name text, queue text, priority int, run_at_ms float8, delay_ms float8,
         max_attempts int, input text, idempotency_key text, concurrency_key text, concurrency_limit int,
         parent_id text)
     ),
     ins AS (
       INSERT INTO baton.executions (id, kind, name, queue, priority, run_at, max_attempts, input,
                                     idempotency_key, concurrency_key, concurrency_limit, parent_id)
       SELECT id, kind, name, queue, priority,
              CASE WHEN run_at_ms IS NOT NULL THEN to_timestamp(run_at_ms / 1000.0)
                   WHEN delay_ms IS NOT NULL THEN now() + delay_ms * interval '1 millisecond'
                   ELSE now() END,
              max_attempts, input::jsonb, idempotency_key, concurrency_key, concurrency_limit, parent_id
       FROM src
       ON CONFLICT (name, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING id, queue, run_at
     ),
     woken AS (
       SELECT count(pg_notify('baton_work', q)) AS n FROM (SELECT DISTINCT queue AS q FROM ins) x
     )
     SELECT s.id AS requested_id, coalesce(i.id, e.id) AS id, s.idempotency_key AS key, s.name,
            i.id IS NOT NULL AS inserted, (SELECT n FROM woken) AS woken
     FROM src s
     LEFT JOIN ins i ON i.id = s.id
     LEFT JOIN baton.executions e ON i.id IS NULL AND e.name = s.name AND e.idempotency_key = s.idempotency_key`,
    [payload],
  );
  // The statement does not promise row order: answer in the order of `rows`.
  const byRequest = new Map(found.map((f) => [f.requested_id, f]));
  return rows.map((r) => byRequest.get(r.id)!);
}
