import { streamNames } from '@free-lunch/contracts';
import { StreamConsumer } from '@free-lunch/streams';
import type { Kitchen } from '../use-cases/kitchen-ports.js';
import { openTicketsForPlacedOrders } from '../use-cases/open-tickets.js';
import type { KitchenMember } from './kitchen-group.js';

/**
 * Placed orders, a batch at a time, straight to their use case, which opens their tickets in one
 * transaction; the consumer acks, retries and dead-letters around that.
 */
export function ordersPlacedConsumer(member: KitchenMember, kitchen: Kitchen): StreamConsumer<typeof streamNames.orderPlaced> {
  return new StreamConsumer({
    ...member,
    stream: streamNames.orderPlaced,
    handleBatch: (batch) => openTicketsForPlacedOrders(kitchen, batch.map(({ message }) => message)),
  });
}
