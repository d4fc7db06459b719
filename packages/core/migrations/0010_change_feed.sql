-- The change feed (docs/server.md, "Live updates"; docs/decisions/0021): each statement that inserts
-- executions or changes their status sends one NOTIFY on `baton_events` per ~8 kB of changes, one
-- line per execution: id, status, kind, queue and name, tab-separated.
--
-- The triggers that call it cost about a fifth of a saturated queue's server CPU, so they exist only
-- while somebody watches: a process that serves the feed registers in baton.feed_listeners and
-- creates them; the last to leave drops them (packages/core/src/change-feed.ts). Disabling them
-- would not do: PostgreSQL still captures the transition tables of a disabled trigger.

CREATE TABLE baton.feed_listeners (
  id           text PRIMARY KEY,
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION baton.publish_execution_changes() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- Chunks stay under NOTIFY's 8000-byte payload: names and queues are at most 200 bytes.
  IF TG_OP = 'INSERT' THEN
    PERFORM pg_notify('baton_events', string_agg(line, E'\n'))
    FROM (SELECT line, sum(octet_length(line) + 1) OVER (ORDER BY id) / 7000 AS chunk
          FROM (SELECT n.id, concat_ws(E'\t', n.id, n.status, n.kind, n.queue, n.name) AS line
                FROM new_rows n) l) c
    GROUP BY chunk;
  ELSE
    PERFORM pg_notify('baton_events', string_agg(line, E'\n'))
    FROM (SELECT line, sum(octet_length(line) + 1) OVER (ORDER BY id) / 7000 AS chunk
          FROM (SELECT n.id, concat_ws(E'\t', n.id, n.status, n.kind, n.queue, n.name) AS line
                FROM new_rows n JOIN old_rows o USING (id)
                WHERE n.status IS DISTINCT FROM o.status) l) c
    GROUP BY chunk;
  END IF;
  RETURN NULL;
END $$;
