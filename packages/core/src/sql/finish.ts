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
  /**
   * Delete the row instead of marking it completed (a top-level job of a worker with
   * `removeOnComplete`). A job the artifacts ledger names is marked completed instead.
   */
  remove?: boolean;
}

/**
 * Marks many attempts completed in one statement. An attempt counts only if this worker still
 * holds it (same owner, same attempt number, still running): a worker that lost its lease, for
 * example after being paused, cannot overwrite the run that replaced it. Completions marked
 * `remove` delete their row instead, under the same fence, unless something refers to it: those
 * are then completed as usual, by a second statement. Workers of queues whose limit slots were
 * freed are woken. Returns the ids that were recorded.
 */
export async function completeMany(
  db: Queryable,
  workerId: string,
  done: readonly Completion[],
): Promise<Set<string>> {
  if (done.length === 0) return new Set();
  // Outputs and attempt numbers travel as JSON objects keyed by id, looked up per row. A join with
  // unnest() would let the planner, trusting statistics taken while every row was still queued,
  // pick a nested loop that rescans the whole batch for every row. One pass builds both.
  let outputs = '{';
  let attempts = '{';
  let entries = '';
  let entryCounts = '';
  const kept: string[] = [];
  const removed: string[] = [];
  let wake = false;
  for (let i = 0; i < done.length; i++) {
    const d = done[i];
    const key = JSON.stringify(d.id);
    attempts += `${i === 0 ? '' : ','}${key}:${d.attempt}`;
    if (d.remove && !d.hasParent && !d.entries?.length) {
      removed.push(d.id);
      continue;
    }
    outputs += `${kept.length === 0 ? '' : ','}${key}:${d.output}`;
    kept.push(d.id);
    if (d.hasParent) wake = true;
    if (d.entries?.length) {
      for (const e of d.entries) entries += `${entries ? ',' : ''}${entryJson(d.id, e)}`;
      entryCounts += `${entryCounts ? ',' : ''}${key}:${d.entries.length}`;
    }
  }
  outputs += '}';
  attempts += '}';
  const freed = [...new Set(done.map((d) => d.freesSlotOf).filter((q): q is string => q !== null))];
  // Parameters are numbered as they are used: a prepared statement may not leave one unused.
  const params: unknown[] = [attempts, workerId];
  const param = (value: unknown) => `$${params.push(value)}`;
  const fence = `e.attempts = ($1::jsonb ->> e.id)::int AND e.lease_owner = $2 AND e.status = 'running'`;
  const ctes: string[] = [];
  const recordedSets: string[] = [];
  if (kept.length > 0) {
    const ids = param(kept);
    // Entries are inserted where the run still holds its lease; a run completes only if all of its
    // entries went in (`written` counts them per run, read once as one object).
    let allWritten = '';
    if (entries !== '') {
      ctes.push(
        `ins AS (
           INSERT INTO baton.history (${HISTORY_COLUMNS})
           SELECT ${HISTORY_COLUMNS} FROM jsonb_to_recordset(${param(`[${entries}]`)}::jsonb) AS h(${ENTRY_RECORD})
           WHERE h.execution_id IN (
             SELECT e.id FROM baton.executions e WHERE e.id = ANY(${ids}::text[]) AND ${fence})
           ON CONFLICT (execution_id, seq) DO NOTHING
           RETURNING execution_id
         )`,
        `written AS (
           SELECT coalesce(jsonb_object_agg(execution_id, n), '{}') AS n
           FROM (SELECT execution_id, count(*) AS n FROM ins GROUP BY execution_id) c
         )`,
      );
      allWritten = `AND coalesce(((SELECT n FROM written) ->> e.id)::int, 0) = coalesce((${param(`{${entryCounts}}`)}::jsonb ->> e.id)::int, 0)`;
    }
    ctes.push(`done AS (
       UPDATE baton.executions e
       SET status = 'completed', output = ${param(outputs)}::jsonb -> e.id, finished_at = now(), holds_slot = false
       WHERE e.id = ANY(${ids}::text[]) AND ${fence} ${allWritten}
       RETURNING e.id, e.parent_id
     )`);
    recordedSets.push('SELECT id FROM done');
    // Waking parents costs an extra UPDATE in the statement: only batches with a child pay for it.
    if (wake) ctes.push(`woken AS (${wakeParentsSql('done')})`);
  }
  let keptBack = '';
  if (removed.length > 0) {
    // Only a top-level job that nothing refers to is removed: a parent reads its children's rows,
    // a workflow has history, and the artifacts ledger names the executions it holds (every ledger
    // write records a run context). Such rows still under this lease come back in `kept_back`:
    // normally none, so that read probes nothing.
    const removable = param(removed);
    ctes.push(`removed AS (
       DELETE FROM baton.executions e
       WHERE e.id = ANY(${removable}::text[]) AND ${fence} AND e.kind = 'job' AND e.parent_id IS NULL
         AND NOT EXISTS (SELECT 1 FROM baton.run_contexts c WHERE c.execution_id = e.id)
       RETURNING e.id
     )`);
    recordedSets.push('SELECT id FROM removed');
    keptBack = `, ARRAY(SELECT e.id FROM baton.executions e
                   WHERE e.id = ANY(ARRAY(SELECT k FROM unnest(${removable}::text[]) k
                                          WHERE k NOT IN (SELECT id FROM removed)))
                     AND ${fence}) AS kept_back`;
  }
  // A CTE that only selects runs only when read: the reply reads `freed`.
  if (freed.length > 0) ctes.push(`freed AS (${slotFreedSql(param(freed))})`);
  // The reply is one row listing the ids that were *not* recorded, normally none: reading back
  // every completed id cost the worker more than writing it.
  const [r] = await db.query<{ missed: string[]; kept_back?: string[] }>(
    `WITH ${ctes.join(', ')}
     SELECT ARRAY(SELECT k FROM jsonb_object_keys($1::jsonb) k
                  WHERE k NOT IN (${recordedSets.join(' UNION ALL ')})) AS missed
       ${keptBack}${freed.length ? ', (SELECT n FROM freed) AS freed' : ''}`,
    params,
    `baton_complete${kept.length ? '' : '_none_kept'}${wake ? '_children' : ''}${entries ? '_entries' : ''}${removed.length ? '_removing' : ''}${freed.length ? '_freeing' : ''}`,
  );
  const recorded = new Set(done.map((d) => d.id));
  for (const id of r.missed) recorded.delete(id);
  if (r.kept_back?.length) {
    const back = new Set(r.kept_back);
    const again = await completeMany(
      db,
      workerId,
      done.filter((d) => back.has(d.id)).map((d) => ({ ...d, remove: false })),
    );
    for (const id of back) if (again.has(id)) recorded.add(id);
  }
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
