-- An execution's status and kind become enum types instead of text with a CHECK. PostgreSQL
-- evaluates every CHECK of a row on every UPDATE, whatever columns changed, and a job is updated
-- at least twice (claim, completion): the two text IN-lists were a measurable share of a worker's
-- database CPU. An enum is validated where a value enters (a literal once, when the statement is
-- planned), compares as a number, and takes 4 bytes instead of up to 10.
CREATE TYPE baton.execution_status AS ENUM ('queued', 'running', 'waiting', 'completed', 'failed', 'cancelled');
CREATE TYPE baton.execution_kind AS ENUM ('job', 'workflow', 'activity');

ALTER TABLE baton.executions
  DROP CONSTRAINT executions_status_check,
  DROP CONSTRAINT executions_kind_check,
  ALTER COLUMN status DROP DEFAULT,
  ALTER COLUMN kind DROP DEFAULT,
  ALTER COLUMN status TYPE baton.execution_status USING status::baton.execution_status,
  ALTER COLUMN kind TYPE baton.execution_kind USING kind::baton.execution_kind,
  ALTER COLUMN status SET DEFAULT 'queued',
  ALTER COLUMN kind SET DEFAULT 'job';
