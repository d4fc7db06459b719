// The audit log of tool calls (baton.ai_audit): every permission decision with the tool, its
// arguments (secrets masked), the rule, who decided, and when; `baton audit` prints it.
import { checkText, type Driver } from '@baton/core';
import type { PermissionDecision } from '@baton/core';

export interface AuditEntry {
  id: string;
  at: number;
  executionId: string;
  toolCallId: string;
  tool: string;
  arguments: unknown;
  /** allow / deny by rule; `approved` / `denied` by a person; `interrupted` when a crash cut the call off. */
  decision: PermissionDecision | 'approved' | 'denied' | 'expired' | 'interrupted';
  rule: string | null;
  decidedBy: string | null;
  reason: string | null;
}

export class AuditLog {
  constructor(private readonly driver: Driver) {}

  /** Writes an entry once: a repeated write of the same id changes nothing. */
  async write(e: AuditEntry): Promise<void> {
    await this.driver.query(
      `INSERT INTO baton.ai_audit (id, at, execution_id, tool_call_id, tool, arguments, decision, rule, decided_by, reason)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (id) DO NOTHING`,
      [
        e.id,
        e.at,
        e.executionId,
        e.toolCallId,
        e.tool,
        JSON.stringify(e.arguments),
        e.decision,
        e.rule,
        e.decidedBy,
        e.reason,
      ],
    );
  }

  list(filter: { executionId?: string; since?: number; limit?: number } = {}): Promise<AuditEntry[]> {
    return this.driver.query<AuditEntry>(
      `SELECT id, at, execution_id AS "executionId", tool_call_id AS "toolCallId", tool, arguments, decision, rule,
         decided_by AS "decidedBy", reason
       FROM baton.ai_audit WHERE ($1::text IS NULL OR execution_id = $1) AND at >= $2
       ORDER BY at, id LIMIT $3`,
      [
        filter.executionId === undefined ? null : checkText(filter.executionId, 'execution id', 1000),
        filter.since ?? 0,
        filter.limit ?? 1000,
      ],
    );
  }
}
