// Approvals of tool calls: the request an agent's workflow records before it waits, and the
// decision a person gives (`baton approvals approve|deny`), which reaches the waiting workflow as a
// signal. A request is decided once: approving an expired or decided request is refused.
import { BatonError, Client, checkStorable, checkText, nearest, type Driver, type Store } from '@baton/core';

export type ApprovalStatus = 'pending' | 'approved' | 'denied' | 'expired';
/** How far an approval reaches: this call only, the rest of the agent's run, or always (the project's policy file). */
export type Remember = 'once' | 'session' | 'always';

export interface Approval {
  id: string;
  executionId: string;
  toolCallId: string;
  tool: string;
  /** The call's arguments, secrets masked. */
  arguments: unknown;
  rule: string | null;
  status: ApprovalStatus;
  requestedAt: number;
  expiresAt: number | null;
  decidedAt: number | null;
  decidedBy: string | null;
  reason: string | null;
  remember: Remember | null;
}

/** What the waiting workflow receives. */
export interface ApprovalAnswer {
  approved: boolean;
  by: string;
  reason: string | null;
  remember: Remember;
}

/** The signal an approval's answer is sent on. */
export const approvalSignal = (id: string) => `approval:${id}`;

const COLUMNS = `id, execution_id AS "executionId", tool_call_id AS "toolCallId", tool, arguments, rule, status,
  requested_at AS "requestedAt", expires_at AS "expiresAt", decided_at AS "decidedAt", decided_by AS "decidedBy",
  reason, remember`;

export class ApprovalStore {
  constructor(private readonly driver: Driver) {}

  /** Records a request (again: nothing changes, so a repeated step is harmless). */
  async request(
    a: Pick<Approval, 'id' | 'executionId' | 'toolCallId' | 'tool' | 'arguments' | 'rule' | 'expiresAt'>,
  ): Promise<void> {
    await this.driver.query(
      `INSERT INTO baton.ai_approvals (id, execution_id, tool_call_id, tool, arguments, rule, status, requested_at, expires_at)
       VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8) ON CONFLICT (id) DO NOTHING`,
      [
        a.id,
        a.executionId,
        a.toolCallId,
        a.tool,
        JSON.stringify(a.arguments),
        a.rule,
        Date.now(),
        a.expiresAt,
      ],
    );
  }

  async get(id: string): Promise<Approval | undefined> {
    const [row] = await this.driver.query<Approval>(
      `SELECT ${COLUMNS} FROM baton.ai_approvals WHERE id = $1`,
      [id],
    );
    return row;
  }

  /** Requests newest first, by status, and of one execution when given. */
  list(status: ApprovalStatus | 'all' = 'pending', limit = 100, executionId?: string): Promise<Approval[]> {
    return this.driver.query<Approval>(
      `SELECT ${COLUMNS} FROM baton.ai_approvals
       WHERE ($1 = 'all' OR status = $1) AND ($3::text IS NULL OR execution_id = $3)
       ORDER BY requested_at DESC LIMIT $2`,
      [status, limit, executionId ?? null],
    );
  }

  /**
   * Decides a pending request and signals its workflow. Throws E_NOT_FOUND for an unknown id (with
   * a did-you-mean among pending ones) and E_INVALID_STATE for one already decided or expired.
   */
  async decide(store: Store, id: string, answer: ApprovalAnswer, now = Date.now()): Promise<Approval> {
    checkText(id, 'approval id', 200);
    if (answer.reason !== null) checkStorable(answer.reason, 'the reason');
    const [row] = await this.driver.query<Approval>(
      `UPDATE baton.ai_approvals SET status = $2, decided_at = $3, decided_by = $4, reason = $5, remember = $6
       WHERE id = $1 AND status = 'pending' AND (expires_at IS NULL OR expires_at > $3)
       RETURNING ${COLUMNS}`,
      [id, answer.approved ? 'approved' : 'denied', now, answer.by, answer.reason, answer.remember],
    );
    if (!row) {
      const existing = await this.get(id);
      if (!existing) {
        const pending = (await this.list('pending')).map((a) => a.id);
        const guess = nearest(id, pending);
        throw new BatonError(
          'E_NOT_FOUND',
          `no approval request '${id}'${guess ? ` (did you mean '${guess}'?)` : ''}: see baton approvals list`,
        );
      }
      const state =
        existing.status === 'pending'
          ? 'expired (its wait timed out)'
          : `already ${existing.status}${existing.decidedBy ? ` by ${existing.decidedBy}` : ''}`;
      throw new BatonError('E_INVALID_STATE', `approval '${id}' is ${state}: nothing was changed`);
    }
    await new Client(store).signal(row.executionId, approvalSignal(id), answer as never, {
      idempotencyKey: `approval:${id}`,
    });
    return row;
  }

  /**
   * Marks a request expired when its wait timed out; returns the decision a person gave in the
   * meantime, if one beat the timeout.
   */
  async expire(id: string, now = Date.now()): Promise<Approval | undefined> {
    const [expired] = await this.driver.query<{ id: string }>(
      `UPDATE baton.ai_approvals SET status = 'expired', decided_at = $2, decided_by = 'timeout'
       WHERE id = $1 AND status = 'pending' RETURNING id`,
      [id, now],
    );
    return expired ? undefined : this.get(id);
  }
}
