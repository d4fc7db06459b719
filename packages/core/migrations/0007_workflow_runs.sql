-- Workflow features of engine round 2.
-- A workflow's timeout: how long it may take (timeout_ms), and the moment past which its run fails
-- with E_TIMEOUT (null: none). Set when the workflow is started, kept across ctx.continueAsNew,
-- counted again from the retry when a failed workflow is retried.
ALTER TABLE baton.executions ADD COLUMN timeout_ms float8;
ALTER TABLE baton.executions ADD COLUMN deadline_at timestamptz;
-- Which run of its workflow id an execution is at: 1, then one more at each ctx.continueAsNew.
ALTER TABLE baton.executions ADD COLUMN run integer NOT NULL DEFAULT 1;
-- The order in which a run handed its operations' results to the code, so that a replay hands
-- them over in the same order and Promise.race / Promise.any decide as they did (null: history
-- written before this column, replayed in the order the code asks).
ALTER TABLE baton.history ADD COLUMN settled integer;
-- The runs a workflow id went through before its current one (ctx.continueAsNew): the history of
-- each is gone, this line about it stays (the last 100 per workflow).
CREATE TABLE baton.workflow_runs (
  execution_id text COLLATE "C" NOT NULL,
  run          integer NOT NULL,
  input        jsonb,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz NOT NULL,
  steps        integer NOT NULL,
  PRIMARY KEY (execution_id, run)
);
-- A workflow's default timeout, as the workers that run it define it, for starts by name.
ALTER TABLE baton.definitions ADD COLUMN timeout_ms float8;
