-- Signals may carry an idempotency key: a sender that retries after a lost reply (a connection cut
-- between its COMMIT and the answer) sends the same key, and the signal is stored once.
ALTER TABLE baton.signals ADD COLUMN idempotency_key text COLLATE "C";
CREATE UNIQUE INDEX signals_idempotency_idx ON baton.signals (execution_id, idempotency_key)
  WHERE idempotency_key IS NOT NULL;
