import type { Queryable } from '../driver/types.js';
import { wakeParentsSql } from './parents.js';
import { slotFreedSql } from '../wakeup.js';
import { ENTRY_RECORD, HISTORY_COLUMNS, entryJson, type NewEntry } from '../workflow/history.js';

/** A finished attempt that succeeded; `output` is JSON text. */
export interface Completion {
  id: string;
  attempt: number;
  output: string;
  /** An activity or child workflow: its parent must be woken. */
  hasParent: boolean;
  /** The queue, when the attempt held a slot of a global limit: its workers are woken as it frees. */
  freesSlotOf: string | null;
  /**
   * A workflow run's history entries not written yet (the step results it returned since its last
   * durable operation): written in the same statement, and the completion counts only if every
   * one of them is (none was recorded by another run first).
   */
  entries?: readonly NewEntry[];
}

/**
 * Marks many attempts completed in one statement. An attempt counts only if this worker still
 * holds it (same owner, same attempt number, still running): a worker that lost its lease, for
 * example after being paused, cannot overwrite the run that replaced it. Workers of queues whose
 * limit slots were freed are woken. Returns the ids that were recorded.
 */
export async function completeMany(
  db: Queryable,
  workerId: string,
  done: readonly Completion[],
): Promise<Set<string>> {
  // Outputs and attempt numbers travel as JSON objects keyed by id, looked up per row. A join with
  // unnest() would let the planner, trusting statistics taken while every row was still queued,
  // pick a nested loop that rescans the whole batch for every row. One pass builds both.
  let outputs = '{';
  let attempts = '{';
  let entries = '';
  let entryCounts = '';
  const ids: string[] = new Array(done.length);
  let wake = false;
  for (let i = 0; i < done.length; i++) {
    const d = done[i];
    const key = JSON.stringify(d.id);
    const sep = i === 0 ? '' : ',';
    outputs += `${sep}${key}:${d.output}`;
    attempts += `${sep}${key}:${d.attempt}`;
    ids[i] = d.id;
    if (d.hasParent) wake = true;
    if (d.entries?.length) {
      for (const e of d.entries) entries += `${entries ? ',' : ''}${entryJson(d.id, e)}`;
      entryCounts += `${entryCounts ? ',' : ''}${key}:${d.entries.length}`;
    }
  }
  outputs += '}';
  attempts += '}';
  const freed = [...new Set(done.map((d) => d.freesSlotOf).filter((q): q is string => q !== null))];
  // Entries are inserted where the run still holds its lease; a run completes only if all of its
  // entries went in (`written` counts them per run, read once as one object).
  const withEntries = entries !== '';
  const entriesSql = withEntries
    ? `ins AS (
         INSERT INTO baton.history (${HISTORY_COLUMNS})
         SELECT ${HISTORY_COLUMNS} FROM jsonb_to_recordset($${freed.length ? 6 : 5}::jsonb) AS h(${ENTRY_RECORD})
         WHERE h.execution_id IN (
           SELECT e.id FROM baton.executions e
           WHERE e.id = ANY($1::text[]) AND e.attempts = ($3::jsonb ->> e.id)::int AND e.lease_owner = $4
             AND e.status = 'running')
         ON CONFLICT (execution_id, seq) DO NOTHING
         RETURNING execution_id
       ),
       written AS (
         SELECT coalesce(jsonb_object_agg(execution_id, n), '{}') AS n
         FROM (SELECT execution_id, count(*) AS n FROM ins GROUP BY execution_id) c
       ),`
    : '';
  const allWritten = withEntries
    ? `AND coalesce(((SELECT n FROM written) ->> e.id)::int, 0) = coalesce(($${freed.length ? 7 : 6}::jsonb ->> e.id)::int, 0)`
    : '';
  // The reply is one row listing the ids that were *not* recorded, normally none: reading back
  // every completed id cost the worker more than writing it. The row also makes `freed` run
  // (a CTE that only selects runs only when read). Waking parents costs an extra UPDATE in the
  // statement: only batches with a child pay for it.
  const [r] = await db.query<{ missed: string[] }>(
    `WITH ${entriesSql} done AS (
       UPDATE baton.executions e
       SET status = 'completed', output = $2::jsonb -> e.id, finished_at = now(), holds_slot = false
       WHERE e.id = ANY($1::text[]) AND e.attempts = ($3::jsonb ->> e.id)::int AND e.lease_owner = $4
         AND e.status = 'running' ${allWritten}
       RETURNING e.id, e.parent_id
     )${wake ? `, woken AS (${wakeParentsSql('done')})` : ''}${freed.length ? `, freed AS (${slotFreedSql('$5')})` : ''}
     SELECT ARRAY(SELECT k FROM jsonb_object_keys($3::jsonb) k WHERE k NOT IN (SELECT id FROM done)) AS missed
       ${freed.length ? ', (SELECT n FROM freed) AS freed' : ''}`,
    [
      ids,
      outputs,
      attempts,
      workerId,
      ...(freed.length ? [freed] : []),
      ...(withEntries ? [`[${entries}]`, `{${entryCounts}}`] : []),
    ],
    `baton_complete${wake ? '_children' : ''}${freed.length ? '_freeing' : ''}${withEntries ? '_entries' : ''}`,
  );
  const recorded = new Set(done.map((d) => d.id));
  for (const id of r.missed) recorded.delete(id);
  return recorded;
}

/** How an attempt that did not succeed ends. */
export type AttemptOutcome =
  | { kind: 'retry'; delayMs: number }
  | { kind: 'failed' }
  | { kind: 'cancelled' }
  /** Give the attempt back without counting it (worker shutdown). */
  | { kind: 'released' };

/**
 * Records an attempt that failed, was cancelled or is given back. `freesSlotOf` names the queue
 * when the attempt held a slot of a global limit, so that its workers are woken. False if the
 * lease was lost meanwhile.
 */
export async function finishAttempt(
  db: Queryable,
  workerId: string,
  id: string,
  attempt: number,
  outcome: AttemptOutcome,
  errorJson: string | null,
  freesSlotOf: string | null = null,
): Promise<boolean> {
  const status = outcome.kind === 'retry' || outcome.kind === 'released' ? 'queued' : outcome.kind;
  const rows = await db.query(
    `WITH ended AS (
       UPDATE baton.executions
       SET status = $4::text::baton.execution_status,
           claimable = ($4::text = 'queued'),
           holds_slot = false,
           attempts = CASE WHEN $5::boolean THEN attempts - 1 ELSE attempts END,
           run_at = CASE WHEN $4::text = 'queued' THEN now() + $6::float8 * interval '1 millisecond' ELSE run_at END,
           error = coalesce($7::jsonb, error),
           errors = CASE WHEN $7::jsonb IS NULL THEN errors
                         ELSE coalesce(errors, '[]'::jsonb) || jsonb_build_array($7::jsonb) END,
           finished_at = CASE WHEN $4::text IN ('failed', 'cancelled') THEN now() ELSE NULL END,
           lease_owner = CASE WHEN $4::text = 'queued' THEN NULL ELSE lease_owner END,
           started_at = CASE WHEN $5::boolean THEN NULL ELSE started_at END
       WHERE id = $1 AND attempts = $2 AND lease_owner = $3 AND status = 'running'
       RETURNING id, CASE WHEN status IN ('failed', 'cancelled') THEN parent_id END AS parent_id
     ),
     woken AS (${wakeParentsSql('ended')})${freesSlotOf ? `, freed AS (${slotFreedSql('ARRAY[$8]')})` : ''}
     SELECT id${freesSlotOf ? ', (SELECT n FROM freed) AS freed' : ''} FROM ended`,
    [
      id,
      attempt,
      workerId,
      status,
      outcome.kind === 'released',
      outcome.kind === 'retry' ? outcome.delayMs : 0,
      errorJson,
      ...(freesSlotOf ? [freesSlotOf] : []),
    ],
    freesSlotOf ? 'baton_finish_attempt_freeing' : 'baton_finish_attempt',
  );
  return rows.length === 1;
}

/** Gives claimed-but-unstarted executions back to the queue without counting an attempt. */
export async function releaseUnstarted(
  db: Queryable,
  workerId: string,
  ids: readonly string[],
): Promise<number> {
  if (ids.length === 0) return 0;
  const rows = await db.query(
    `UPDATE baton.executions
     SET status = 'queued', claimable = true, holds_slot = false, attempts = attempts - 1, lease_owner = NULL,
         started_at = NULL
     WHERE id = ANY($1::text[]) AND lease_owner = $2 AND status = 'running'
     RETURNING id`,
    [ids, workerId],
  );
  return rows.length;
}
