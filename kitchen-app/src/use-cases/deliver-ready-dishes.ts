import { inTransaction } from '@free-lunch/service-kit';
import { enqueueOutbox } from '@free-lunch/streams';
import { OUTBOX_TABLE } from '../data/schema.js';
import { deliverReadyTickets, timeUntilNextDishIsReady } from '../data/tickets.js';
import { dishDeliveredMessages } from '../domain/announcements.js';
import type { Kitchen } from './kitchen-ports.js';

/** Most dishes taken off the stove in one transaction. */
export const DELIVERY_BATCH_SIZE = 500;

export interface DeliveryRound {
  delivered: number;
  /** Milliseconds until the next dish is ready (0: one already is), null when nothing is cooking. */
  nextReadyInMs: number | null;
}

/**
 * Dishes whose cooking time is over are delivered: ticket and `delivered` event in one
 * transaction. Kitchens sharing the database each take different dishes (SKIP LOCKED), and a
 * dish is delivered once however many kitchens look.
 */
export async function deliverReadyDishes(kitchen: Kitchen, batchSize = DELIVERY_BATCH_SIZE): Promise<DeliveryRound> {
  const { delivered, outbox } = await inTransaction(kitchen.pool, async (tx) => {
    const dishes = await deliverReadyTickets(tx, batchSize);
    return { delivered: dishes, outbox: await enqueueOutbox(tx, OUTBOX_TABLE, dishes.flatMap(dishDeliveredMessages)) };
  });
  if (delivered.length > 0) {
    kitchen.publishNow(outbox);
    kitchen.metrics.dishesDelivered(delivered.length);
  }
  return { delivered: delivered.length, nextReadyInMs: await timeUntilNextDishIsReady(kitchen.pool) };
}
