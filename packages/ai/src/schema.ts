// @baton/ai's tables, in the engine's `baton` schema, migrated as the `ai` component. Times are
// epoch milliseconds (double precision), as in the Architect's tables.
import { migrateComponent, type Driver, type Migration } from '@baton/core';

const V1 = `
-- One row per request sent to a provider: the usage ledger. Failed requests are rows too (outcome
-- names the failure), so failover and breaker decisions can be audited; only 'ok' rows count against
-- budgets. cost is null when neither the price table nor the file knows the model.
CREATE TABLE baton.ai_calls (
  id text PRIMARY KEY,
  at double precision NOT NULL,
  execution_id text,
  step text,
  use_case text,
  task_type text,
  provider text NOT NULL,
  model text NOT NULL,
  outcome text NOT NULL,
  input_tokens integer,
  output_tokens integer,
  cached_tokens integer,
  reasoning_tokens integer,
  cost double precision,
  cost_source text NOT NULL,
  latency_ms double precision NOT NULL,
  finish_reason text,
  error text
);
CREATE INDEX ai_calls_at ON baton.ai_calls (at);
CREATE INDEX ai_calls_execution ON baton.ai_calls (execution_id) WHERE execution_id IS NOT NULL;

-- Each provider's circuit breaker, shared by every process.
CREATE TABLE baton.ai_breakers (
  provider text PRIMARY KEY,
  phase text NOT NULL,
  failures double precision[] NOT NULL,
  opened_at double precision,
  recovery_ms double precision NOT NULL,
  successes integer NOT NULL,
  updated_at double precision NOT NULL
);

-- Budget alerts already raised: one per limit and period, so a threshold alerts once.
CREATE TABLE baton.ai_budget_alerts (
  limit_name text NOT NULL,
  period text NOT NULL,
  at double precision NOT NULL,
  PRIMARY KEY (limit_name, period)
);
`;

/** @baton/ai's migrations, numbered from 1 within the `ai` component. */
export const AI_MIGRATIONS: readonly Migration[] = [{ version: 1, name: 'ai', sql: V1 }];

/** Creates or upgrades @baton/ai's tables (after the engine's own migrations). */
export function migrateAi(driver: Driver): Promise<number[]> {
  return migrateComponent(driver, 'ai', AI_MIGRATIONS);
}
