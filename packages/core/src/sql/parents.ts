import { notifyRowSql } from '../wakeup.js';

/**
 * SQL that wakes the parents of executions that just ended: a workflow waiting on an activity or
 * a child workflow. It bumps `signal_count` (a parent about to suspend then stays claimable) and
 * makes a waiting parent claimable now, and wakes its queue's workers (without the NOTIFY a parent
 * waited for the next poll: a second per activity with the default poll). `source` names a CTE
 * with `id` and `parent_id` columns; parents that the same statement already changed (listed in
 * `source` too) are left alone, since PostgreSQL cannot update one row twice in a statement.
 */
export function wakeParentsSql(source: string): string {
  return `UPDATE baton.executions p
     SET signal_count = p.signal_count + 1,
         claimable = CASE WHEN p.status = 'waiting' THEN true ELSE p.claimable END,
         run_at = CASE WHEN p.status = 'waiting' THEN now() ELSE p.run_at END
     WHERE p.id IN (SELECT parent_id FROM ${source} WHERE parent_id IS NOT NULL)
       AND p.id NOT IN (SELECT id FROM ${source})
     RETURNING p.id, CASE WHEN p.status = 'waiting' THEN ${notifyRowSql('p')} END AS notified`;
}
