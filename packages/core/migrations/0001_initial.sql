-- Baton's first schema. Every unit of work (job, workflow, activity) is a row of baton.executions
-- with one status machine: queued -> running -> completed | failed | cancelled, and running -> waiting
-- for a workflow suspended on a sleep, signal, child or activity.
--
-- No index mentions a column that completing an execution changes (status, output, finished_at):
-- a completion is then a HOT update that writes no index entry. See docs/decisions/0006.

CREATE SCHEMA IF NOT EXISTS baton;

CREATE TABLE baton.executions (
  id                text COLLATE "C" PRIMARY KEY,
  kind              text NOT NULL DEFAULT 'job' CHECK (kind IN ('job', 'workflow', 'activity')),
  name              text COLLATE "C" NOT NULL,
  queue             text COLLATE "C" NOT NULL DEFAULT 'default',
  status            text NOT NULL DEFAULT 'queued'
                    CHECK (status IN ('queued', 'running', 'waiting', 'completed', 'failed', 'cancelled')),
  priority          integer NOT NULL DEFAULT 0,
  run_at            timestamptz NOT NULL DEFAULT now(),
  attempts          integer NOT NULL DEFAULT 0,
  max_attempts      integer NOT NULL DEFAULT 1 CHECK (max_attempts >= 1),
  input             jsonb,
  output            jsonb,
  error             jsonb,
  errors            jsonb,
  progress          jsonb,
  idempotency_key   text COLLATE "C",
  concurrency_key   text COLLATE "C",
  concurrency_limit integer CHECK (concurrency_limit IS NULL OR concurrency_limit >= 1),
  parent_id         text COLLATE "C",
  lease_owner       text COLLATE "C",
  cancel_requested  boolean NOT NULL DEFAULT false,
  -- True exactly while the execution is queued: what claims look for.
  claimable         boolean NOT NULL DEFAULT true,
  -- True while a running execution occupies a slot of a global limit (queue concurrency or key).
  holds_slot        boolean NOT NULL DEFAULT false,
  created_at        timestamptz NOT NULL DEFAULT now(),
  started_at        timestamptz,
  finished_at       timestamptz
) WITH (fillfactor = 70);

-- What a claim scans: only claimable rows, in the order they are served.
CREATE INDEX executions_claimable_idx ON baton.executions (queue, priority DESC, run_at, id)
  WHERE claimable;
-- Running executions under a global limit, counted per queue and per key when claiming.
CREATE INDEX executions_slots_idx ON baton.executions (queue, concurrency_key)
  WHERE holds_slot;
CREATE UNIQUE INDEX executions_idempotency_idx ON baton.executions (name, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
CREATE INDEX executions_parent_idx ON baton.executions (parent_id) WHERE parent_id IS NOT NULL;

-- Live workers. A worker's heartbeat renews the lease on everything it runs in one small UPDATE,
-- instead of one UPDATE per running execution.
CREATE TABLE baton.workers (
  id           text PRIMARY KEY,
  hostname     text NOT NULL,
  pid          integer NOT NULL,
  queues       text[] NOT NULL,
  names        text[] NOT NULL,
  lease_ms     integer NOT NULL CHECK (lease_ms > 0),
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

-- Global per-queue limits, shared by all workers on all machines. `tokens`/`tokens_at` hold the rate
-- limiter's bucket.
CREATE TABLE baton.queues (
  name              text PRIMARY KEY,
  concurrency_limit integer CHECK (concurrency_limit IS NULL OR concurrency_limit >= 1),
  rate_limit        integer CHECK (rate_limit IS NULL OR rate_limit >= 1),
  rate_interval_ms  integer CHECK (rate_interval_ms IS NULL OR rate_interval_ms >= 1),
  tokens            double precision,
  tokens_at         timestamptz,
  updated_at        timestamptz NOT NULL DEFAULT now()
);

-- Names that some worker or client has defined, so that enqueueing an unknown name fails clearly.
CREATE TABLE baton.definitions (
  kind       text NOT NULL,
  name       text NOT NULL,
  queue      text NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (kind, name)
);

-- Cron schedules declared in code. `next_fire_at` is claimed under a row lock, and every fire
-- enqueues with the idempotency key `cron:<name>:<fire time>`, so a fire runs once however many
-- workers race for it.
CREATE TABLE baton.schedules (
  name         text PRIMARY KEY,
  cron         text NOT NULL,
  timezone     text,
  job_name     text NOT NULL,
  queue        text NOT NULL,
  input        jsonb,
  missed       text NOT NULL CHECK (missed IN ('skip', 'latest', 'catch-up')),
  next_fire_at timestamptz NOT NULL,
  last_fire_at timestamptz,
  updated_at   timestamptz NOT NULL DEFAULT now()
);
