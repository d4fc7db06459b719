// Sending a signal, as CTEs that a caller can also embed in a statement of its own (the Architect
// completes a task and wakes its workflow in one statement).
import { notifyRowSql } from '../wakeup.js';

export interface SignalSqlParts {
  /** A query of the ids of the workflows to signal (text). */
  readonly ids: string;
  /** SQL of the signal's name (text). */
  readonly name: string;
  /** SQL of its payload (jsonb). */
  readonly payload: string;
  /** SQL of its idempotency key (text, or NULL). */
  readonly key: string;
}

/**
 * CTEs `signal_target`, `signal_sent` and `signal_counted` that send a signal to each unfinished
 * workflow among `ids`. The workflow's row is locked first, so two sends with the same key (a retry
 * racing the send it repeats) serialise: the second finds the first's signal and stores and counts
 * nothing. A waiting workflow becomes due, and its queue's workers are woken from the RETURNING
 * list, which runs for every row changed whether or not anything reads it. `signal_target` holds the
 * workflows that were still unfinished.
 */
export function signalSql(p: SignalSqlParts): string {
  return `signal_target AS (
       SELECT id FROM baton.executions
       WHERE id IN (${p.ids}) AND kind = 'workflow' AND status IN ('queued', 'running', 'waiting')
       FOR NO KEY UPDATE
     ),
     signal_sent AS (
       INSERT INTO baton.signals (execution_id, name, payload, idempotency_key)
       SELECT id, ${p.name}, ${p.payload}, ${p.key} FROM signal_target
       ON CONFLICT (execution_id, idempotency_key) WHERE idempotency_key IS NOT NULL DO NOTHING
       RETURNING execution_id
     ),
     signal_counted AS (
       UPDATE baton.executions e
       SET signal_count = signal_count + 1,
           claimable = CASE WHEN status = 'waiting' THEN true ELSE claimable END,
           run_at = CASE WHEN status = 'waiting' THEN now() ELSE run_at END
       WHERE id IN (SELECT execution_id FROM signal_sent)
       RETURNING CASE WHEN e.status = 'waiting' THEN ${notifyRowSql('e')} END
     )`;
}
