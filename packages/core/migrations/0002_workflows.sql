-- Durable workflows. A workflow is an execution (kind 'workflow') whose progress is recorded here,
-- one row per durable operation in the order the code asked for them; a resumed run replays its
-- code against these rows. Signals wait in baton.signals until a waitForSignal consumes them.

-- Bumped by every signal sent, in the same UPDATE that may wake the workflow. A run that is about
-- to suspend compares it with the count it started with, so a signal that arrives meanwhile is
-- never missed (both statements update this row, so they serialise).
ALTER TABLE baton.executions ADD COLUMN signal_count integer NOT NULL DEFAULT 0;

CREATE TABLE baton.history (
  execution_id text COLLATE "C" NOT NULL REFERENCES baton.executions (id) ON DELETE CASCADE,
  seq          integer NOT NULL CHECK (seq >= 0),
  kind         text NOT NULL CHECK (kind IN ('step', 'sleep', 'signal', 'patch', 'event', 'activity', 'child')),
  name         text NOT NULL,
  -- 'waiting': a sleep or signal wait that has not ended yet.
  status       text NOT NULL CHECK (status IN ('waiting', 'completed', 'failed')),
  attempts     integer NOT NULL DEFAULT 1,
  output       jsonb,
  error        jsonb,
  started_at   timestamptz NOT NULL,
  finished_at  timestamptz,
  PRIMARY KEY (execution_id, seq)
);

CREATE TABLE baton.signals (
  id           bigserial PRIMARY KEY,
  execution_id text COLLATE "C" NOT NULL REFERENCES baton.executions (id) ON DELETE CASCADE,
  name         text NOT NULL,
  payload      jsonb,
  -- The history position of the waitForSignal that received it.
  consumed_seq integer,
  created_at   timestamptz NOT NULL DEFAULT now()
);
-- Serves pending lookups by name in order, and the cascade when an execution is pruned.
CREATE INDEX signals_execution_idx ON baton.signals (execution_id, name, id);

-- Progress a workflow publishes with ctx.setEvent(key, value); callers read it while it runs.
CREATE TABLE baton.events (
  execution_id text COLLATE "C" NOT NULL REFERENCES baton.executions (id) ON DELETE CASCADE,
  key          text NOT NULL,
  value        jsonb,
  updated_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (execution_id, key)
);
