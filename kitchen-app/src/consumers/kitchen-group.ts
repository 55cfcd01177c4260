import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { streamNames } from '@free-lunch/contracts';
import { deadLetterMetrics, isTransientDatabaseError, streamBacklogMetrics, streamMetrics } from '@free-lunch/service-kit';
import { deadLetterCounts, streamBacklog, type StreamConsumerOptions } from '@free-lunch/streams';
import type { KitchenConfig } from '../config.js';

/** The consumer group every kitchen replica joins, so each message reaches one of them. */
export const KITCHEN_GROUP = 'kitchen';

/** The streams the kitchen's group reads. */
export const KITCHEN_STREAMS = [streamNames.orderPlaced, streamNames.ingredientsDispatched];

/** What both of the kitchen's consumers share: this app's membership of the group. */
export type KitchenMember = Omit<StreamConsumerOptions<typeof streamNames.orderPlaced>, 'stream' | 'handleBatch'>;

/**
 * This app's membership of the kitchen's group, for its consumers; registers the group's backlog
 * and dead-letter gauges once.
 */
export function kitchenMember(app: FastifyInstance, config: KitchenConfig): KitchenMember {
  streamBacklogMetrics(app.metrics, () =>
    streamBacklog(app.redis, config.KEY_PREFIX, KITCHEN_STREAMS.map((stream) => ({ stream, group: KITCHEN_GROUP }))),
  );
  deadLetterMetrics(app.metrics, () => deadLetterCounts(app.redis, config.KEY_PREFIX, KITCHEN_STREAMS));
  return {
    redis: app.redis,
    prefix: config.KEY_PREFIX,
    group: KITCHEN_GROUP,
    // Unique per app instance, not just per process: a test (or a careless deploy) may run two
    // kitchens in one process, and group members must not share a name.
    consumer: `${config.SERVICE_INSTANCE}-${randomBytes(3).toString('hex')}`,
    logger: app.log,
    claimIdleMs: config.CLAIM_IDLE_MS,
    livenessTtlMs: config.MEMBER_TTL_MS,
    // PostgreSQL away (down, restarting, sessions cut): hold the batch and retry, spending no delivery.
    isTransientError: isTransientDatabaseError,
    lingerMs: config.CONSUMER_LINGER_MS,
    maxDeliveries: config.MAX_DELIVERIES,
    metrics: streamMetrics(app.metrics),
  };
}
