import { randomBytes } from 'node:crypto';
import { streamNames } from '@free-lunch/contracts';
import { StreamConsumer, type StreamConsumerOptions, type StreamMetrics } from '@free-lunch/streams';
import type { Redis } from 'ioredis';
import type { KitchenConfig } from './config.js';
import { openTicketsForPlacedOrders } from './use-cases/open-tickets.js';
import { startCookingDispatchedTickets } from './use-cases/start-cooking.js';
import type { Kitchen } from './use-cases/kitchen.js';

/** The consumer group every kitchen replica joins, so each message reaches one of them. */
export const KITCHEN_GROUP = 'kitchen';

/**
 * The kitchen's two inbound streams. Entry points only: each batch goes straight to its use case,
 * which handles it in one transaction; the consumer acks, retries and dead-letters around that.
 */
export function kitchenConsumers({ redis, config, kitchen, logger, metrics }: {
  redis: Redis;
  config: KitchenConfig;
  kitchen: Kitchen;
  logger: StreamConsumerOptions<typeof streamNames.orderPlaced>['logger'];
  metrics: StreamMetrics;
}): Array<StreamConsumer<typeof streamNames.orderPlaced> | StreamConsumer<typeof streamNames.ingredientsDispatched>> {
  // Unique per app instance, not just per process: a test (or a careless deploy) may run two
  // kitchens in one process, and group members must not share a name.
  const consumer = `${config.SERVICE_INSTANCE}-${randomBytes(3).toString('hex')}`;
  const shared = {
    redis,
    prefix: config.KEY_PREFIX,
    group: KITCHEN_GROUP,
    consumer,
    logger,
    claimIdleMs: config.CLAIM_IDLE_MS,
    lingerMs: config.CONSUMER_LINGER_MS,
    maxDeliveries: config.MAX_DELIVERIES,
    metrics,
  };
  return [
    new StreamConsumer({
      ...shared,
      stream: streamNames.orderPlaced,
      handleBatch: (batch) => openTicketsForPlacedOrders(kitchen, batch.map(({ message }) => message)),
    }),
    new StreamConsumer({
      ...shared,
      stream: streamNames.ingredientsDispatched,
      handleBatch: (batch) => startCookingDispatchedTickets(kitchen, batch.map(({ message }) => message)),
    }),
  ];
}
