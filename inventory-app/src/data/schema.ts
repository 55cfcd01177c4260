/** The warehouse's transactional outbox, schema-qualified as `enqueueOutbox` and `OutboxRelay` want it. */
export const OUTBOX_TABLE = 'inventory.outbox';
