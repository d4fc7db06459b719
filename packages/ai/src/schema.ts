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

const V2 = `
-- Tool calls an agent asked a person about: one row per request, decided once.
CREATE TABLE baton.ai_approvals (
  id text PRIMARY KEY,
  execution_id text NOT NULL,
  tool_call_id text NOT NULL,
  tool text NOT NULL,
  arguments jsonb NOT NULL,
  rule text,
  status text NOT NULL,
  requested_at double precision NOT NULL,
  expires_at double precision,
  decided_at double precision,
  decided_by text,
  reason text,
  remember text
);
CREATE INDEX ai_approvals_pending ON baton.ai_approvals (requested_at) WHERE status = 'pending';

-- Every permission decision on a tool call: the rule, the decision, who approved, when. Arguments
-- are stored with secrets masked. The id is the call's and the stage's, so a repeated write is one row.
CREATE TABLE baton.ai_audit (
  id text PRIMARY KEY,
  at double precision NOT NULL,
  execution_id text NOT NULL,
  tool_call_id text NOT NULL,
  tool text NOT NULL,
  arguments jsonb NOT NULL,
  decision text NOT NULL,
  rule text,
  decided_by text,
  reason text
);
CREATE INDEX ai_audit_execution ON baton.ai_audit (execution_id, at);
CREATE INDEX ai_audit_at ON baton.ai_audit (at);
`;

const V3 = `
-- The project context index: what the last scan of a project directory read from each file, and
-- the size and mtime it read it at, so the next scan reads only what changed. facts is null for a
-- file that was skipped (skipped says why: binary, over the size cap, unreadable).
CREATE TABLE baton.ai_context_files (
  root text NOT NULL,
  path text NOT NULL,
  mtime_ms double precision NOT NULL,
  size bigint NOT NULL,
  facts jsonb,
  skipped text,
  PRIMARY KEY (root, path)
);
`;

const V4 = `
-- Checkpoints: a file's content before an agent's tool call changed it, for undo. Contents are
-- stored once per sha256 (ai_checkpoint_blobs); a checkpoint with a null blob means the file did
-- not exist (undo removes it). id is the call's and the path's, so a re-run call keeps the first.
CREATE TABLE baton.ai_checkpoint_blobs (
  sha256 text PRIMARY KEY,
  bytes bytea NOT NULL,
  size bigint NOT NULL
);
CREATE TABLE baton.ai_checkpoints (
  id text PRIMARY KEY,
  seq bigint GENERATED ALWAYS AS IDENTITY,
  project text NOT NULL,
  session text NOT NULL,
  turn integer NOT NULL,
  path text NOT NULL,
  blob text,
  at double precision NOT NULL
);
CREATE INDEX ai_checkpoints_session ON baton.ai_checkpoints (session, turn);
CREATE INDEX ai_checkpoints_project ON baton.ai_checkpoints (project, seq);
`;

/** @baton/ai's migrations, numbered from 1 within the `ai` component. */
export const AI_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'ai', sql: V1 },
  { version: 2, name: 'approvals_audit', sql: V2 },
  { version: 3, name: 'context_files', sql: V3 },
  { version: 4, name: 'checkpoints', sql: V4 },
];

/** Creates or upgrades @baton/ai's tables (after the engine's own migrations). */
export function migrateAi(driver: Driver): Promise<number[]> {
  return migrateComponent(driver, 'ai', AI_MIGRATIONS);
}

/**
 * Whether @baton/ai's tables exist in this store (an Ai opened it at least once). Read-only
 * commands and routes check this instead of migrating a store they only look at.
 */
export async function aiTablesExist(driver: Driver): Promise<boolean> {
  const [row] = await driver.query<{ t: string | null }>("SELECT to_regclass('baton.ai_calls')::text AS t");
  return row.t !== null;
}
