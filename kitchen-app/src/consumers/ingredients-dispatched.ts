import { streamNames } from '@free-lunch/contracts';
import { StreamConsumer } from '@free-lunch/streams';
import type { Kitchen } from '../use-cases/kitchen-ports.js';
import { startCookingDispatchedTickets } from '../use-cases/start-cooking.js';
import type { KitchenMember } from './kitchen-group.js';

/**
 * The warehouse's dispatches, a batch at a time, straight to their use case, which puts the dishes
 * on the stove in one transaction; the consumer acks, retries and dead-letters around that.
 */
export function ingredientsDispatchedConsumer(
  member: KitchenMember,
  kitchen: Kitchen,
): StreamConsumer<typeof streamNames.ingredientsDispatched> {
  return new StreamConsumer({
    ...member,
    stream: streamNames.ingredientsDispatched,
    handleBatch: (batch) => startCookingDispatchedTickets(kitchen, batch.map(({ message }) => message)),
  });
}
