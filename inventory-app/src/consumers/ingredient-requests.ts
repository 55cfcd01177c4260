import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { streamNames } from '@free-lunch/contracts';
import { deadLetterMetrics, isTransientDatabaseError, streamBacklogMetrics, streamMetrics } from '@free-lunch/service-kit';
import { deadLetterCounts, StreamConsumer, streamBacklog, type PublishCommitted } from '@free-lunch/streams';
import type { InventoryConfig } from '../config.js';
import { receiveRequests } from '../use-cases/receive-requests.js';

/** The consumer group every inventory replica joins to share the kitchen's requests. */
export const INVENTORY_GROUP = 'inventory';

/**
 * The kitchen's ingredient requests, a batch at a time, straight to their use case, which queues
 * them in one transaction; the consumer acks, retries and dead-letters around that.
 */
export function ingredientRequestsConsumer(
  app: FastifyInstance,
  config: InventoryConfig,
  publishNow: PublishCommitted,
): StreamConsumer<typeof streamNames.ingredientsRequested> {
  const stream = streamNames.ingredientsRequested;
  streamBacklogMetrics(app.metrics, () => streamBacklog(app.redis, config.KEY_PREFIX, [{ stream, group: INVENTORY_GROUP }]));
  deadLetterMetrics(app.metrics, () => deadLetterCounts(app.redis, config.KEY_PREFIX, [stream]));
  return new StreamConsumer({
    redis: app.redis,
    prefix: config.KEY_PREFIX,
    stream,
    group: INVENTORY_GROUP,
    // Unique even when several apps share a process (tests) or a host name (containers).
    consumer: `${config.SERVICE_INSTANCE}-${randomBytes(3).toString('hex')}`,
    handleBatch: (batch) => receiveRequests({ pool: app.pg, publishNow }, batch.map((entry) => entry.message)),
    logger: app.log,
    claimIdleMs: config.CLAIM_IDLE_MS,
    livenessTtlMs: config.MEMBER_TTL_MS,
    // PostgreSQL away (down, restarting, sessions cut): hold the batch and retry, spending no delivery.
    isTransientError: isTransientDatabaseError,
    lingerMs: config.CONSUMER_LINGER_MS,
    maxDeliveries: config.MAX_DELIVERIES,
    metrics: streamMetrics(app.metrics),
  });
}
