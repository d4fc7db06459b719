// The Architect's tables, in the engine's `baton` schema, migrated as the `architect` component.
// Times are milliseconds since the epoch (double precision, exact to 2^53): the router, the SLA clock
// and the tests all work in epoch ms, and a number cannot be misread as local time (GAIA_GO compared
// local time against UTC timestamps).
import { migrateComponent, type Driver, type Migration } from '@baton/core';

const V1 = `
CREATE TABLE baton.architect_tasks (
  id text PRIMARY KEY,
  type text NOT NULL,
  prompt text NOT NULL,
  priority integer NOT NULL,
  -- the task as sent (providers, metadata …), for routing again
  spec jsonb NOT NULL,
  -- pending | assigned | running | completed | failed | cancelled
  status text NOT NULL,
  assigned_session text,
  -- bumped on every assignment: an outcome or a timeout names the attempt it is about
  attempt integer NOT NULL DEFAULT 0,
  retry_count integer NOT NULL DEFAULT 0,
  reassignments integer NOT NULL DEFAULT 0,
  avoid_sessions text[] NOT NULL DEFAULT '{}',
  -- created_at − priority × 10 min: the queue's order (see service-order.ts)
  service_key double precision NOT NULL,
  timeout_ms double precision,
  max_retries integer NOT NULL,
  created_at double precision NOT NULL,
  assigned_at double precision,
  started_at double precision,
  ended_at double precision,
  deadline_at double precision,
  port integer,
  -- false while the create_env hook of the task's environment has not run
  env_ready boolean NOT NULL DEFAULT true,
  result text,
  error text,
  pauses jsonb NOT NULL DEFAULT '[]',
  -- the last severity alerted (the SLA alert tracker's state for this task)
  sla_severity text,
  -- why it waits, from the last routing decision
  queued_reason text,
  -- the durable workflow that runs it now (a manual retry of a finished task starts a new one)
  workflow_id text NOT NULL
);
CREATE INDEX architect_tasks_queue ON baton.architect_tasks (service_key, id) WHERE status = 'pending';
CREATE INDEX architect_tasks_held ON baton.architect_tasks (assigned_session)
  WHERE status IN ('assigned', 'running');
CREATE INDEX architect_tasks_open ON baton.architect_tasks (created_at)
  WHERE status IN ('pending', 'assigned', 'running');
CREATE INDEX architect_tasks_ended ON baton.architect_tasks (ended_at) WHERE ended_at IS NOT NULL;

CREATE TABLE baton.architect_task_events (
  id bigserial PRIMARY KEY,
  task_id text NOT NULL REFERENCES baton.architect_tasks (id) ON DELETE CASCADE,
  at double precision NOT NULL,
  event text NOT NULL,
  session text,
  attempt integer NOT NULL,
  reason text NOT NULL
);
CREATE INDEX architect_task_events_task ON baton.architect_task_events (task_id, id);

CREATE TABLE baton.architect_sessions (
  name text PRIMARY KEY,
  provider text NOT NULL,
  capacity integer NOT NULL,
  -- active (idle or busy, from its tasks) | waiting_input | draining | offline | stale
  state text NOT NULL,
  adapter text NOT NULL,
  -- the process that registered it: another live process may not take the name
  holder text NOT NULL,
  working_dir text,
  git_branch text,
  registered_at double precision NOT NULL,
  last_heartbeat double precision NOT NULL,
  last_assigned_at double precision NOT NULL DEFAULT 0,
  assigned_total integer NOT NULL DEFAULT 0,
  -- what it reported with its state (the approval prompt it waits on …)
  note text
);

CREATE TABLE baton.architect_port_leases (
  port integer PRIMARY KEY,
  task_id text NOT NULL UNIQUE,
  leased_at double precision NOT NULL
);

CREATE TABLE baton.architect_alerts (
  id bigserial PRIMARY KEY,
  task_id text NOT NULL,
  severity text NOT NULL,
  previous text NOT NULL,
  action text NOT NULL,
  color text,
  message text NOT NULL,
  channels text[] NOT NULL,
  created_at double precision NOT NULL,
  cleared_at double precision
);
CREATE INDEX architect_alerts_open ON baton.architect_alerts (task_id) WHERE cleared_at IS NULL;

CREATE TABLE baton.architect_state (
  key text PRIMARY KEY,
  value jsonb NOT NULL
);
`;

// An operator acknowledges an alert (the dashboard, the API): who and when, kept with the alert.
const V2 = `
ALTER TABLE baton.architect_alerts ADD COLUMN acknowledged_at double precision;
ALTER TABLE baton.architect_alerts ADD COLUMN acknowledged_by text;
`;

// Tasks, sessions and alerts on the change feed (docs/server.md, "Live updates"): NOTIFYs on
// `baton_architect_events`, a JSON object per line. The function only: the triggers that call it
// (ARCHITECT_FEED_TRIGGERS) exist while a server with the Architect serves the feed, as the
// executions' do (decision 0021).
const V3 = `
CREATE FUNCTION baton.publish_architect_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lines text[];
BEGIN
  -- One JSON line per changed row; a statement names new_rows or old_rows only where they exist.
  IF TG_TABLE_NAME = 'architect_tasks' AND TG_OP = 'INSERT' THEN
    SELECT array_agg(json_build_object('type', 'task', 'id', n.id, 'status', n.status, 'taskType', n.type,
                                       'session', n.assigned_session)::text) INTO lines
    FROM new_rows n;
  ELSIF TG_TABLE_NAME = 'architect_tasks' THEN
    SELECT array_agg(json_build_object('type', 'task', 'id', n.id, 'status', n.status, 'taskType', n.type,
                                       'session', n.assigned_session)::text) INTO lines
    FROM new_rows n JOIN old_rows o USING (id)
    WHERE o.status IS DISTINCT FROM n.status OR o.assigned_session IS DISTINCT FROM n.assigned_session;
  ELSIF TG_OP = 'DELETE' THEN
    SELECT array_agg(json_build_object('type', 'session', 'id', o.name, 'status', 'removed')::text) INTO lines
    FROM old_rows o;
  ELSIF TG_TABLE_NAME = 'architect_sessions' AND TG_OP = 'INSERT' THEN
    SELECT array_agg(json_build_object('type', 'session', 'id', n.name, 'status', n.state)::text) INTO lines
    FROM new_rows n;
  ELSIF TG_TABLE_NAME = 'architect_sessions' THEN
    SELECT array_agg(json_build_object('type', 'session', 'id', n.name, 'status', n.state)::text) INTO lines
    FROM new_rows n JOIN old_rows o USING (name) WHERE o.state IS DISTINCT FROM n.state;
  ELSE
    SELECT array_agg(json_build_object('type', 'alert', 'id', n.id::text,
      'status', CASE WHEN n.cleared_at IS NOT NULL THEN 'cleared'
                     WHEN n.acknowledged_at IS NOT NULL THEN 'acknowledged' ELSE 'open' END,
      'severity', n.severity, 'task', n.task_id)::text) INTO lines
    FROM new_rows n;
  END IF;
  -- Chunks stay under NOTIFY's 8000-byte payload: each holds the lines that start in its 1,400 bytes.
  PERFORM pg_notify('baton_architect_events', string_agg(line, E'\\n'))
  FROM (SELECT line, (sum(octet_length(line) + 1) OVER (ORDER BY i) - octet_length(line) - 1) / 1400 AS chunk
        FROM unnest(lines) WITH ORDINALITY AS u(line, i)) c
  GROUP BY chunk;
  RETURN NULL;
END $$;
`;

// The open tasks are the pending ones and the held ones, which architect_tasks_queue and
// architect_tasks_held already index: the SLA monitor reads each through its own. A third index
// over the same rows cost every change of a task's status an index entry, and without statistics
// (a burst before autovacuum analyzes) the planner joined it to the held index to count held tasks.
const V4 = `DROP INDEX baton.architect_tasks_open;`;

/** The Architect's migrations, numbered from 1 within the `architect` component. */
export const ARCHITECT_MIGRATIONS: readonly Migration[] = [
  { version: 1, name: 'architect', sql: V1 },
  { version: 2, name: 'alert_acknowledgement', sql: V2 },
  { version: 3, name: 'change_feed', sql: V3 },
  { version: 4, name: 'no_open_tasks_index', sql: V4 },
];

/** Creates or upgrades the Architect's tables (after the engine's own migrations). */
export function migrateArchitect(driver: Driver): Promise<number[]> {
  return migrateComponent(driver, 'architect', ARCHITECT_MIGRATIONS);
}
