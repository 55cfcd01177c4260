import type { IngredientsDispatchedV1 } from '@free-lunch/contracts';
import { cookTickets, loadTickets } from '../data/tickets.js';
import { cookedMessages } from '../domain/announcements.js';
import { triageDispatches, type IgnoredDispatch } from '../domain/ticket.js';
import type { Kitchen } from './kitchen-ports.js';

/**
 * The warehouse dispatched ingredients: the tickets waiting for them go on the stove, ready
 * COOK_TIME_MS from now. With no cooking time at all the dish is ready the moment it is on the
 * stove, so the same update delivers it too: one row version, one commit and one relay batch
 * instead of waking the cook loop for another round of each.
 *
 * One statement for the whole batch: it moves the tickets still waiting for these ingredients (of
 * the recipe dispatched) and writes the announcements of exactly those it moved. Idempotent by
 * order id: a ticket already cooking or delivered is left alone, so a redelivered dispatch changes
 * nothing. The dispatches that moved nothing are looked at afterwards: one the kitchen cannot
 * match to a ticket of the same recipe is logged, counted and acknowledged, not retried (see
 * `decideOnDispatch`).
 */
export async function startCookingDispatchedTickets(
  kitchen: Kitchen,
  dispatches: readonly IngredientsDispatchedV1[],
): Promise<void> {
  const at = new Date();
  const cookTimeMs = kitchen.cookTimeMs;
  const dishes = onePerOrder(dispatches);
  const announcements = dishes.flatMap((dish) =>
    cookedMessages(dish, at, cookTimeMs === 0).map((message) => ({ ...message, key: dish.orderId })),
  );
  const { moved, outbox } = await cookTickets(kitchen.pool, dishes, { at, cookTimeMs }, announcements);
  if (moved.size > 0) {
    kitchen.publishNow(outbox);
    if (cookTimeMs > 0) kitchen.cookNow();
    else kitchen.metrics.dishesDelivered(moved.size);
  }

  const notMoved = dishes.filter((dish) => !moved.has(dish.orderId.toLowerCase()));
  if (notMoved.length === 0) return;
  const tickets = await loadTickets(kitchen.pool, notMoved.map((dispatch) => dispatch.orderId));
  reportIgnored(kitchen, triageDispatches(tickets, notMoved).ignored);
}

/** A batch may carry the same dispatch twice (a redelivery next to a re-send); the first one counts. */
function onePerOrder(dispatches: readonly IngredientsDispatchedV1[]): IngredientsDispatchedV1[] {
  const seen = new Set<string>();
  return dispatches.filter((dispatch) => !seen.has(dispatch.orderId) && seen.add(dispatch.orderId));
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
