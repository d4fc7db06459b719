// The usage ledger: one row per request sent to a provider (baton.ai_calls), and the reports
// `baton usage` prints from it.
import { BatonError, newId, type Driver } from '@baton/core';
import type { CostSource } from './prices.js';
import type { FailureClass } from './failure.js';

/** One request to one provider, as recorded. */
export interface CallRecord {
  at: number;
  executionId?: string | null;
  step?: string | null;
  useCase?: string | null;
  taskType?: string | null;
  provider: string;
  model: string;
  outcome: 'ok' | FailureClass;
  inputTokens?: number | null;
  outputTokens?: number | null;
  cachedTokens?: number | null;
  reasoningTokens?: number | null;
  cost: number | null;
  costSource: CostSource;
  latencyMs: number;
  finishReason?: string | null;
  error?: string | null;
}

export const USAGE_GROUPS = ['provider', 'model', 'day', 'workflow', 'task', 'use_case'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

/** Requests and USD spent in a period. */
export interface Spend {
  requests: number;
  cost: number;
}

/** One line of a usage report. */
export interface UsageLine {
  key: string | null;
  requests: number;
  failed: number;
  inputTokens: number;
  outputTokens: number;
  cachedTokens: number;
  reasoningTokens: number;
  /** USD over the calls whose cost is known. */
  cost: number;
  /** Calls whose model has no known price: their cost is not in `cost`. */
  unpriced: number;
}

// Each grouping is a fixed SQL expression: the caller picks a name, never writes SQL.
const GROUP_SQL: Record<UsageGroup, string> = {
  provider: 'c.provider',
  model: "c.provider || '/' || c.model",
  day: "to_char(to_timestamp(c.at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD')",
  workflow: 'e.name',
  task: 'c.task_type',
  use_case: 'c.use_case',
};

export class UsageLedger {
  constructor(private readonly driver: Driver) {}

  async record(c: CallRecord): Promise<string> {
    const id = newId();
    await this.driver.query(
      `INSERT INTO baton.ai_calls (id, at, execution_id, step, use_case, task_type, provider, model, outcome,
         input_tokens, output_tokens, cached_tokens, reasoning_tokens, cost, cost_source, latency_ms, finish_reason, error)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18)`,
      [
        id,
        c.at,
        c.executionId ?? null,
        c.step ?? null,
        c.useCase ?? null,
        c.taskType ?? null,
        c.provider,
        c.model,
        c.outcome,
        c.inputTokens ?? null,
        c.outputTokens ?? null,
        c.cachedTokens ?? null,
        c.reasoningTokens ?? null,
        c.cost,
        c.costSource,
        c.latencyMs,
        c.finishReason ?? null,
        c.error ?? null,
      ],
    );
    return id;
  }

  /**
   * Successful requests and their known cost since the start of the day and of the month (epoch
   * ms), in one query: what budgets count.
   */
  async spent(day: number, month: number): Promise<{ today: Spend; month: Spend }> {
    const [r] = await this.driver.query<{ dr: number; dc: number; mr: number; mc: number }>(
      `SELECT count(*) FILTER (WHERE at >= $1)::int AS dr, coalesce(sum(cost) FILTER (WHERE at >= $1), 0)::float8 AS dc,
         count(*)::int AS mr, coalesce(sum(cost), 0)::float8 AS mc
       FROM baton.ai_calls WHERE at >= $2 AND outcome = 'ok'`,
      [day, month],
    );
    return { today: { requests: r.dr, cost: r.dc }, month: { requests: r.mr, cost: r.mc } };
  }

  /** Usage since `from`, grouped. */
  async report(by: UsageGroup, from: number): Promise<UsageLine[]> {
    const group = GROUP_SQL[by];
    if (!group)
      throw new BatonError(
        'E_INVALID_OPTION',
        `cannot group usage by '${by}': use one of ${USAGE_GROUPS.join(', ')}`,
      );
    const join = by === 'workflow' ? 'LEFT JOIN baton.executions e ON e.id = c.execution_id' : '';
    return this.driver.query<UsageLine>(
      `SELECT ${group} AS key,
         count(*) FILTER (WHERE c.outcome = 'ok')::int AS requests,
         count(*) FILTER (WHERE c.outcome <> 'ok')::int AS failed,
         coalesce(sum(c.input_tokens), 0)::int AS "inputTokens",
         coalesce(sum(c.output_tokens), 0)::int AS "outputTokens",
         coalesce(sum(c.cached_tokens), 0)::int AS "cachedTokens",
         coalesce(sum(c.reasoning_tokens), 0)::int AS "reasoningTokens",
         coalesce(sum(c.cost), 0)::float8 AS cost,
         count(*) FILTER (WHERE c.outcome = 'ok' AND c.cost IS NULL)::int AS unpriced
       FROM baton.ai_calls c ${join}
       WHERE c.at >= $1
       GROUP BY 1 ORDER BY cost DESC, requests DESC, key`,
      [from],
    );
  }

  /** The calls an execution made, oldest first. */
  callsOf(executionId: string): Promise<(CallRecord & { id: string })[]> {
    return this.driver.query(
      `SELECT id, at, execution_id AS "executionId", step, use_case AS "useCase", task_type AS "taskType",
         provider, model, outcome, input_tokens AS "inputTokens", output_tokens AS "outputTokens",
         cached_tokens AS "cachedTokens", reasoning_tokens AS "reasoningTokens", cost, cost_source AS "costSource",
         latency_ms AS "latencyMs", finish_reason AS "finishReason", error
       FROM baton.ai_calls WHERE execution_id = $1 ORDER BY at, id`,
      [executionId],
    );
  }
}
