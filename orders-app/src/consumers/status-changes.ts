import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { streamNames } from '@free-lunch/contracts';
import { deadLetterMetrics, isTransientDatabaseError, streamBacklogMetrics, streamMetrics } from '@free-lunch/service-kit';
import { deadLetterCounts, StreamConsumer, streamBacklog } from '@free-lunch/streams';
import type { OrdersConfig } from '../config.js';
import { applyStatusChanges } from '../use-cases/apply-status-changes.js';

/** The consumer group of every orders-app replica: each status event is applied by one of them. */
export const ORDERS_GROUP = 'orders';

/**
 * Reads the kitchen's status events in batches and applies each batch in one transaction. When it
 * finds its group missing, Redis lost its data: `onGroupLost` re-drives every unfinished order.
 */
export function statusChangesConsumer(
  app: FastifyInstance,
  config: OrdersConfig,
  onGroupLost: () => Promise<void>,
): StreamConsumer<typeof streamNames.orderStatusChanged> {
  streamBacklogMetrics(app.metrics, () =>
    streamBacklog(app.redis, config.KEY_PREFIX, [{ stream: streamNames.orderStatusChanged, group: ORDERS_GROUP }]),
  );
  deadLetterMetrics(app.metrics, () => deadLetterCounts(app.redis, config.KEY_PREFIX, [streamNames.orderStatusChanged]));
  return new StreamConsumer({
    redis: app.redis,
    prefix: config.KEY_PREFIX,
    stream: streamNames.orderStatusChanged,
    group: ORDERS_GROUP,
    // Unique even when several apps share a process (tests) or a host name (containers).
    consumer: `${config.SERVICE_INSTANCE}-${randomBytes(3).toString('hex')}`,
    handleBatch: async (messages) => {
      await applyStatusChanges({ pool: app.pg, log: app.log }, messages.map((consumed) => consumed.message));
    },
    logger: app.log,
    claimIdleMs: config.CLAIM_IDLE_MS,
    livenessTtlMs: config.MEMBER_TTL_MS,
    // PostgreSQL away (down, restarting, sessions cut): hold the batch and retry, spending no delivery.
    isTransientError: isTransientDatabaseError,
    lingerMs: config.CONSUMER_LINGER_MS,
    maxDeliveries: config.MAX_DELIVERIES,
    onGroupLost,
    metrics: streamMetrics(app.metrics),
  });
}
