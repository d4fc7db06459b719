-- What a durable operation was given, so that a history says what each step worked on: the input
-- of an activity or child workflow, and the input a step declares (ctx.step(name, fn, { input })).
-- Null for operations without one (sleeps, signal waits, markers, steps without a declared input).
ALTER TABLE baton.history ADD COLUMN input jsonb;
