-- The change feed reports a job that its completion removed (a worker with `removeOnComplete`
-- deletes a top-level job in the completion statement): as completed, from the deleted row.
-- Only that completion deletes a running execution; pruning deletes finished ones, which report
-- nothing. The lines are built per operation and then chunked once, as migration 0010 did.
CREATE OR REPLACE FUNCTION baton.publish_execution_changes() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  lines text[];
BEGIN
  IF TG_OP = 'INSERT' THEN
    SELECT array_agg(json_build_array(n.id, n.status, n.kind, n.queue, n.name)::text ORDER BY n.id)
    INTO lines FROM new_rows n;
  ELSIF TG_OP = 'UPDATE' THEN
    SELECT array_agg(json_build_array(n.id, n.status, n.kind, n.queue, n.name)::text ORDER BY n.id)
    INTO lines FROM new_rows n JOIN old_rows o USING (id) WHERE n.status IS DISTINCT FROM o.status;
  ELSE
    SELECT array_agg(json_build_array(o.id, 'completed', o.kind, o.queue, o.name)::text ORDER BY o.id)
    INTO lines FROM old_rows o WHERE o.status = 'running';
  END IF;
  -- Chunks stay under NOTIFY's 8000-byte payload: a chunk holds the lines that start in its 1,400
  -- bytes, and one line is at most ~6,500 bytes (an id of 1,000 characters, escaped; a name and a
  -- queue of 200).
  PERFORM pg_notify('baton_events', string_agg(line, E'\n' ORDER BY i))
  FROM (SELECT line, i, (sum(octet_length(line) + 1) OVER (ORDER BY i) - octet_length(line) - 1) / 1400 AS chunk
        FROM unnest(lines) WITH ORDINALITY AS l(line, i)) c
  GROUP BY chunk;
  RETURN NULL;
END $$;
