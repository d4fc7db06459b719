// Budgets of llm_providers.yaml (`budget:`): checked before a call against its estimate, counted
// after it from the ledger's actual figures. Days and months are UTC.
import { BatonError, type Driver, type Logger } from '@baton/core';
import type { LlmProvidersFile } from './config.js';
import type { UsageLedger } from './usage.js';

type BudgetSettings = NonNullable<LlmProvidersFile['budget']>;

/** A limit a budget alert names. */
export interface BudgetAlert {
  limit: 'daily_request_limit' | 'daily_cost_limit' | 'monthly_request_limit' | 'monthly_cost_limit';
  period: string;
  /** Requests or USD spent in the period. */
  spent: number;
  limitValue: number;
  threshold: number;
}

/** Where budget alerts go: the SLA channels when wired (cli), else the log. */
export type AlertSink = (alert: BudgetAlert) => void | Promise<void>;

const usd = (n: number) => `$${n.toFixed(4).replace(/0{1,2}$/, '')}`;

function periodStarts(now: number): { day: number; month: number; dayKey: string; monthKey: string } {
  const d = new Date(now);
  const day = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate());
  const month = Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
  const iso = new Date(day).toISOString();
  return { day, month, dayKey: iso.slice(0, 10), monthKey: iso.slice(0, 7) };
}

export class BudgetGuard {
  constructor(
    private readonly settings: BudgetSettings | undefined,
    private readonly ledger: UsageLedger,
    private readonly driver: Driver,
    private readonly alert: AlertSink,
  ) {}

  get enabled(): boolean {
    return this.settings?.enabled === true;
  }

  /**
   * Refuses a call that would pass a limit: `E_BUDGET_EXCEEDED` names the limit, what was spent
   * and, for cost, the call's estimate. `estimateUsd` is null when the price is unknown: request
   * limits still apply, cost limits cannot be checked ahead and are checked after.
   */
  async check(estimateUsd: number | null, now = Date.now()): Promise<void> {
    const b = this.settings;
    if (!b?.enabled) return;
    const p = periodStarts(now);
    const { today, month } = await this.ledger.spent(p.day, p.month);
    const refuse = (limit: string, message: string, details: Record<string, unknown>) => {
      throw new BatonError(
        'E_BUDGET_EXCEEDED',
        `${message}; raise budget.${limit} in llm_providers.yaml or wait for the next ${limit.startsWith('daily') ? 'day' : 'month'} (UTC)`,
        {
          details: { limit, ...details },
        },
      );
    };
    if (b.daily_request_limit !== undefined && today.requests + 1 > b.daily_request_limit)
      refuse(
        'daily_request_limit',
        `the daily request limit of ${b.daily_request_limit} is reached (${today.requests} requests today)`,
        { spent: today.requests },
      );
    if (b.monthly_request_limit !== undefined && month.requests + 1 > b.monthly_request_limit)
      refuse(
        'monthly_request_limit',
        `the monthly request limit of ${b.monthly_request_limit} is reached (${month.requests} requests this month)`,
        { spent: month.requests },
      );
    const extra = estimateUsd ?? 0;
    if (b.daily_cost_limit !== undefined && today.cost + extra > b.daily_cost_limit)
      refuse(
        'daily_cost_limit',
        `this call (estimated ${usd(extra)}) would take today's spend of ${usd(today.cost)} past the daily cost limit of ${usd(b.daily_cost_limit)}`,
        { spent: today.cost, estimate: extra },
      );
    if (b.monthly_cost_limit !== undefined && month.cost + extra > b.monthly_cost_limit)
      refuse(
        'monthly_cost_limit',
        `this call (estimated ${usd(extra)}) would take this month's spend of ${usd(month.cost)} past the monthly cost limit of ${usd(b.monthly_cost_limit)}`,
        { spent: month.cost, estimate: extra },
      );
  }

  /** The limits whose alert threshold is crossed now. */
  private async crossed(now: number): Promise<BudgetAlert[]> {
    const b = this.settings;
    if (!b?.enabled) return [];
    const threshold = b.alert_threshold ?? 0.8;
    const p = periodStarts(now);
    const { today, month } = await this.ledger.spent(p.day, p.month);
    const candidates: BudgetAlert[] = [];
    const consider = (
      limit: BudgetAlert['limit'],
      period: string,
      spent: number,
      limitValue: number | undefined,
    ) => {
      if (limitValue !== undefined && limitValue > 0 && spent >= threshold * limitValue)
        candidates.push({ limit, period, spent, limitValue, threshold });
    };
    consider('daily_request_limit', p.dayKey, today.requests, b.daily_request_limit);
    consider('daily_cost_limit', p.dayKey, today.cost, b.daily_cost_limit);
    consider('monthly_request_limit', p.monthKey, month.requests, b.monthly_request_limit);
    consider('monthly_cost_limit', p.monthKey, month.cost, b.monthly_cost_limit);
    return candidates;
  }

  /** A line naming the limits past their alert threshold (the chat's status line), or null. */
  async warning(now = Date.now()): Promise<string | null> {
    const crossed = await this.crossed(now);
    if (crossed.length === 0) return null;
    return `budget: ${crossed.map((a) => `${a.limit} at ${Math.round((a.spent / a.limitValue) * 100)}%`).join(', ')}`;
  }

  /** After a call: raises each limit's alert once per period when its threshold is crossed. */
  async afterCall(now = Date.now()): Promise<void> {
    const candidates = await this.crossed(now);
    for (const a of candidates) {
      const fresh = await this.driver.query(
        `INSERT INTO baton.ai_budget_alerts (limit_name, period, at) VALUES ($1, $2, $3)
         ON CONFLICT DO NOTHING RETURNING 1`,
        [a.limit, a.period, now],
      );
      if (fresh.length) await this.alert(a);
    }
  }
}

/** The default sink: a warning in the log. */
export function logAlerts(logger: Logger): AlertSink {
  return (a) =>
    logger.warn(
      { budget: a },
      `LLM budget: ${a.limit} at ${Math.round((a.spent / a.limitValue) * 100)}% for ${a.period} (${a.spent} of ${a.limitValue})`,
    );
}
