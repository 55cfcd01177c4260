/** The PostgreSQL schema holding every kitchen table; the pool's `search_path` points at it. */
export const KITCHEN_SCHEMA = 'kitchen';

/** The kitchen's transactional outbox, schema-qualified as `enqueueOutbox` and `OutboxRelay` want it. */
export const OUTBOX_TABLE = `${KITCHEN_SCHEMA}.outbox`;
