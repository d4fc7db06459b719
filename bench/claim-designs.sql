-- Claim designs compared on the server alone (decision 0020). Run:
--   psql postgres://postgres@127.0.0.1:5432/test -f bench/claim-designs.sql
-- It creates (and drops at the end) a database `claim_designs` with three copies of 50,000 queued
-- no-op jobs, then claims 250 at a time and completes them, committing each step, 100 times per
-- design (25,000 jobs), twice. It prints server time and WAL per job, and how many updates were HOT.
--   a: Baton's design: a partial claim index `WHERE claimable` on the executions table; the claim
--      turns `claimable` off, a non-HOT update (a new row version and primary-key entry).
--   b: a claim that writes no new row version of the execution: a separate `ready` table holds the
--      claim index; the claim deletes the ready rows, and the executions are updated HOT.
--   c: design a with fillfactor 50 instead of 70 (more room for HOT completions).
--   d: design a with completions that delete the row (a worker's `removeOnComplete`, decision 0030).
\set ON_ERROR_STOP 1
\pset footer off
DROP DATABASE IF EXISTS claim_designs;
CREATE DATABASE claim_designs;
\c claim_designs

CREATE TABLE ex_a (
  id text COLLATE "C" PRIMARY KEY,
  name text COLLATE "C" NOT NULL,
  queue text COLLATE "C" NOT NULL DEFAULT 'default',
  status text NOT NULL DEFAULT 'queued',
  priority int NOT NULL DEFAULT 0,
  run_at timestamptz NOT NULL DEFAULT now(),
  attempts int NOT NULL DEFAULT 0,
  input jsonb,
  output jsonb,
  lease_owner text,
  claimable boolean NOT NULL DEFAULT true,
  started_at timestamptz,
  finished_at timestamptz
) WITH (fillfactor = 70);
CREATE INDEX ex_a_claim ON ex_a (queue, priority DESC, run_at, id) WHERE claimable;

CREATE TABLE ex_b (LIKE ex_a INCLUDING DEFAULTS) WITH (fillfactor = 70);
ALTER TABLE ex_b ADD PRIMARY KEY (id);
CREATE TABLE ready_b (
  id text COLLATE "C" NOT NULL,
  queue text COLLATE "C" NOT NULL,
  priority int NOT NULL,
  run_at timestamptz NOT NULL
);
CREATE INDEX ready_b_claim ON ready_b (queue, priority DESC, run_at, id);

CREATE TABLE ex_d (LIKE ex_a INCLUDING DEFAULTS) WITH (fillfactor = 70);
ALTER TABLE ex_d ADD PRIMARY KEY (id);
CREATE INDEX ex_d_claim ON ex_d (queue, priority DESC, run_at, id) WHERE claimable;

CREATE TABLE ex_c (LIKE ex_a INCLUDING DEFAULTS) WITH (fillfactor = 50);
ALTER TABLE ex_c ADD PRIMARY KEY (id);
CREATE INDEX ex_c_claim ON ex_c (queue, priority DESC, run_at, id) WHERE claimable;

INSERT INTO ex_a (id, name, input, run_at)
SELECT 'job_' || lpad(g::text, 22, '0'), 'noop', jsonb_build_object('i', g),
       now() - interval '1 hour' + g * interval '1 ms'
FROM generate_series(1, 50000) g;
INSERT INTO ex_b SELECT * FROM ex_a;
INSERT INTO ready_b SELECT id, queue, priority, run_at FROM ex_b;
INSERT INTO ex_c SELECT * FROM ex_a;
INSERT INTO ex_d SELECT * FROM ex_a;
VACUUM ANALYZE;

-- Designs a, c and d: the claim index on the executions table itself. One template makes the
-- three procedures, each with static statements (planned once, as the engine's prepared ones are):
-- EXECUTE would plan every statement anew and tilt the comparison.
DO $do$
DECLARE tbl text;
BEGIN
  FOREACH tbl IN ARRAY ARRAY['ex_a', 'ex_c', 'ex_d'] LOOP
    EXECUTE format($f$
      CREATE PROCEDURE run_%1$s(n int) LANGUAGE plpgsql AS $p$
      DECLARE ids text[];
      BEGIN
        FOR k IN 1..n LOOP
          WITH picked AS (
            SELECT ctid FROM %1$I WHERE claimable AND queue = 'default' AND run_at <= now()
            ORDER BY priority DESC, run_at, id LIMIT 250 FOR UPDATE SKIP LOCKED
          ), claimed AS (
            UPDATE %1$I e SET status = 'running', claimable = false, attempts = e.attempts + 1,
              lease_owner = 'w1', started_at = now()
            FROM picked WHERE e.ctid = picked.ctid RETURNING e.id
          )
          SELECT array_agg(id) INTO ids FROM claimed;
          COMMIT;
          IF %1$L = 'ex_d' THEN
            DELETE FROM %1$I WHERE id = ANY(ids) AND lease_owner = 'w1' AND status = 'running';
          ELSE
            UPDATE %1$I SET status = 'completed', output = 'null', finished_at = now()
            WHERE id = ANY(ids) AND lease_owner = 'w1' AND status = 'running';
          END IF;
          COMMIT;
        END LOOP;
      END $p$
    $f$, tbl);
  END LOOP;
END $do$;

-- Design b: the claim deletes ready rows and updates the executions they name.
CREATE PROCEDURE run_ready_table(n int) LANGUAGE plpgsql AS $$
DECLARE ids text[];
BEGIN
  FOR k IN 1..n LOOP
    WITH picked AS (
      SELECT ctid FROM ready_b WHERE queue = 'default' AND run_at <= now()
      ORDER BY priority DESC, run_at, id LIMIT 250 FOR UPDATE SKIP LOCKED
    ), gone AS (
      DELETE FROM ready_b r USING picked WHERE r.ctid = picked.ctid RETURNING r.id
    ), claimed AS (
      UPDATE ex_b e SET status = 'running', claimable = false, attempts = e.attempts + 1,
        lease_owner = 'w1', started_at = now()
      FROM gone WHERE e.id = gone.id RETURNING e.id
    )
    SELECT array_agg(id) INTO ids FROM claimed;
    COMMIT;
    UPDATE ex_b SET status = 'completed', output = 'null', finished_at = now()
    WHERE id = ANY(ids) AND lease_owner = 'w1' AND status = 'running';
    COMMIT;
  END LOOP;
END $$;

-- One timed round of a design: a checkpoint first (every round pays the same full-page images),
-- then 100 claims of 250 and their completions.
CREATE TABLE results (round int, design text, us_per_job numeric, wal_bytes_per_job numeric);
CREATE PROCEDURE timed(round int, design text) LANGUAGE plpgsql AS $$
DECLARE t0 timestamptz; l0 pg_lsn;
BEGIN
  CHECKPOINT;
  t0 := clock_timestamp();
  l0 := pg_current_wal_lsn();
  COMMIT;
  -- Called directly (not through EXECUTE), so that the procedures may commit.
  IF design = 'a' THEN CALL run_ex_a(100);
  ELSIF design = 'b' THEN CALL run_ready_table(100);
  ELSIF design = 'd' THEN CALL run_ex_d(100);
  ELSE CALL run_ex_c(100);
  END IF;
  INSERT INTO results VALUES (round, design,
    round((extract(epoch FROM clock_timestamp() - t0) * 1e6 / 25000)::numeric, 2),
    round(pg_wal_lsn_diff(pg_current_wal_lsn(), l0) / 25000, 0));
  COMMIT;
END $$;

CALL timed(1, 'a');
CALL timed(1, 'b');
CALL timed(1, 'c');
CALL timed(1, 'd');
CALL timed(2, 'a');
CALL timed(2, 'b');
CALL timed(2, 'c');
CALL timed(2, 'd');

SELECT design, us_per_job, wal_bytes_per_job, round FROM results ORDER BY round, design;
SELECT pg_stat_force_next_flush();
SELECT relname AS "table", n_tup_upd AS updates, n_tup_hot_upd AS hot
FROM pg_stat_user_tables WHERE relname LIKE 'ex_%' ORDER BY relname;

\c postgres
DROP DATABASE claim_designs;
