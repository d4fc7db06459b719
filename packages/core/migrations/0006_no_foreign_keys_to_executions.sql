-- History, signals and events no longer carry foreign keys to baton.executions. Each foreign key
-- adds a trigger to every UPDATE of an execution (a claim, a completion, a heartbeat's cancel
-- check…), even though none of them changes the id, and a key check with a row lock to every
-- history row a workflow writes. The engine writes these rows only for an execution it holds
-- (history and events under the run's lease, signals in the statement that finds the workflow),
-- and pruning deletes them together with their execution, in one statement.
ALTER TABLE baton.history DROP CONSTRAINT history_execution_id_fkey;
ALTER TABLE baton.signals DROP CONSTRAINT signals_execution_id_fkey;
ALTER TABLE baton.events DROP CONSTRAINT events_execution_id_fkey;
