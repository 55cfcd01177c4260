-- Up Migration
-- Idempotency keys are kept for IDEMPOTENCY_KEY_TTL_MS, then forgotten in batches, oldest first.
CREATE INDEX idempotency_keys_by_created_at ON idempotency_keys (created_at);

-- Down Migration
DROP INDEX idempotency_keys_by_created_at;
