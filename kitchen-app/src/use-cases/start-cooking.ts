import type { IngredientsDispatchedV1 } from '@free-lunch/contracts';
import { inTransaction } from '@free-lunch/service-kit';
import { enqueueOutbox } from '@free-lunch/streams';
import { OUTBOX_TABLE } from '../data/schema.js';
import { cookAndDeliverAtOnce, loadTickets, startCooking } from '../data/tickets.js';
import { cookingStartedMessages, dishDeliveredMessages } from '../domain/announcements.js';
import { triageDispatches, type CookingTicket, type DeliveredTicket, type IgnoredDispatch } from '../domain/ticket.js';
import type { Kitchen } from './kitchen-ports.js';

/**
 * The warehouse dispatched ingredients: the tickets waiting for them go on the stove, ready
 * COOK_TIME_MS from now. With no cooking time at all the dish is ready the moment it is on the
 * stove, so the same update delivers it too: one row version, one commit and one relay batch
 * instead of waking the cook loop for another round of each.
 *
 * Idempotent by order id: a ticket already cooking or delivered is left alone (the update itself
 * only takes tickets still awaiting ingredients), so a redelivered dispatch changes nothing. A
 * dispatch the kitchen cannot match to a waiting ticket of the same recipe is logged, counted and
 * acknowledged, not retried (see `decideOnDispatch`). One transaction for the whole batch.
 */
export async function startCookingDispatchedTickets(
  kitchen: Kitchen,
  dispatches: readonly IngredientsDispatchedV1[],
): Promise<void> {
  const { cooking, delivered, ignored, outbox } = await inTransaction(kitchen.pool, async (tx) => {
    const tickets = await loadTickets(tx, dispatches.map((dispatch) => dispatch.orderId));
    const { toCook, ignored } = triageDispatches(tickets, dispatches);
    let cooking: Array<CookingTicket | DeliveredTicket>;
    let delivered: DeliveredTicket[];
    if (kitchen.cookTimeMs === 0) {
      delivered = await cookAndDeliverAtOnce(tx, toCook);
      cooking = delivered;
    } else {
      cooking = await startCooking(tx, toCook, kitchen.cookTimeMs);
      delivered = [];
    }
    const outbox = await enqueueOutbox(tx, OUTBOX_TABLE, [
      ...cooking.flatMap(cookingStartedMessages),
      ...delivered.flatMap(dishDeliveredMessages),
    ]);
    return { cooking, delivered, ignored, outbox };
  });

  if (cooking.length > 0) {
    kitchen.publishNow(outbox);
    if (delivered.length < cooking.length) kitchen.cookNow();
  }
  if (delivered.length > 0) kitchen.metrics.dishesDelivered(delivered.length);
  reportIgnored(kitchen, ignored);
}

function reportIgnored(kitchen: Kitchen, ignored: readonly IgnoredDispatch[]): void {
  for (const { orderId, dispatchedRecipe, decision } of ignored) {
    kitchen.metrics.dispatchesIgnored(decision.action, 1);
    if (decision.action === 'unknown_order') {
      kitchen.log.warn(
        { orderId, recipe: dispatchedRecipe },
        'ingredients dispatched for an order the kitchen has no ticket for; ignored',
      );
    } else {
      kitchen.log.error(
        { orderId, dispatchedRecipe, ticketRecipe: decision.ticketRecipe },
        'ingredients dispatched for another recipe than the ticket; not cooking it',
      );
    }
  }
}
