-- The change feed (docs/server.md, "Live updates"; docs/decisions/0021): each statement that inserts
-- executions or changes their status sends NOTIFYs on `baton_events`, one line per execution: the
-- JSON array [id, status, kind, queue, name] (JSON, so that no id can forge a line).
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
  -- Chunks stay under NOTIFY's 8000-byte payload: a chunk holds the lines that start in its 1,400 bytes,
  -- and one line is at most ~6,500 bytes (an id of 1,000 characters, escaped; a name and a queue of 200).
  IF TG_OP = 'INSERT' THEN
    PERFORM pg_notify('baton_events', string_agg(line, E'\n'))
    FROM (SELECT line, (sum(octet_length(line) + 1) OVER (ORDER BY id) - octet_length(line) - 1) / 1400 AS chunk
          FROM (SELECT n.id, json_build_array(n.id, n.status, n.kind, n.queue, n.name)::text AS line
                FROM new_rows n) l) c
    GROUP BY chunk;
  ELSE
    PERFORM pg_notify('baton_events', string_agg(line, E'\n'))
    FROM (SELECT line, (sum(octet_length(line) + 1) OVER (ORDER BY id) - octet_length(line) - 1) / 1400 AS chunk
          FROM (SELECT n.id, json_build_array(n.id, n.status, n.kind, n.queue, n.name)::text AS line
                FROM new_rows n JOIN old_rows o USING (id)
                WHERE n.status IS DISTINCT FROM o.status) l) c
    GROUP BY chunk;
  END IF;
  RETURN NULL;
END $$;
