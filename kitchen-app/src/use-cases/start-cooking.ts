import type { IngredientsDispatchedV1 } from '@free-lunch/contracts';
import { cookTickets, loadTickets } from '../data/tickets.js';
import { cookingStartedMessages, dishDeliveredMessages } from '../domain/announcements.js';
import {
  triageDispatches,
  type CookingTicket,
  type DeliveredTicket,
  type IgnoredDispatch,
  type Ticket,
} from '../domain/ticket.js';
import type { Kitchen } from './kitchen-ports.js';

/**
 * The warehouse dispatched ingredients: the tickets waiting for them go on the stove, ready
 * COOK_TIME_MS from now. With no cooking time at all the dish is ready the moment it is on the
 * stove, so the same update delivers it too: one row version, one commit and one relay batch
 * instead of waking the cook loop for another round of each.
 *
 * Two round trips for the whole batch: the tickets are read without a lock (see `loadTickets`) to
 * decide, then one statement moves those still waiting and writes the announcements of exactly
 * those it moved. Idempotent by order id: a ticket already cooking or delivered is left alone, so
 * a redelivered dispatch changes nothing. A dispatch the kitchen cannot match to a waiting ticket
 * of the same recipe is logged, counted and acknowledged, not retried (see `decideOnDispatch`).
 */
export async function startCookingDispatchedTickets(
  kitchen: Kitchen,
  dispatches: readonly IngredientsDispatchedV1[],
): Promise<void> {
  const tickets = await loadTickets(kitchen.pool, dispatches.map((dispatch) => dispatch.orderId));
  const { toCook, ignored } = triageDispatches(tickets, dispatches);
  reportIgnored(kitchen, ignored);
  if (toCook.length === 0) return;

  const at = new Date();
  const cookTimeMs = kitchen.cookTimeMs;
  const waiting = new Map(tickets.map((ticket) => [ticket.orderId, ticket]));
  const onTheStove = toCook.map((orderId) => cookedTicket(waiting.get(orderId)!, at, cookTimeMs));
  const announcements = onTheStove.flatMap((ticket) =>
    [...cookingStartedMessages(ticket), ...(ticket.status === 'delivered' ? dishDeliveredMessages(ticket) : [])].map(
      (message) => ({ ...message, key: ticket.orderId }),
    ),
  );
  const { moved, outbox } = await cookTickets(kitchen.pool, toCook, { at, cookTimeMs }, announcements);
  if (moved.size === 0) return;

  kitchen.publishNow(outbox);
  if (cookTimeMs > 0) kitchen.cookNow();
  else kitchen.metrics.dishesDelivered(moved.size);
}

/** The ticket as {@link cookTickets} leaves it when it moves it at `at`. */
function cookedTicket(ticket: Ticket, at: Date, cookTimeMs: number): CookingTicket | DeliveredTicket {
  const readyAt = new Date(at.getTime() + cookTimeMs);
  const cooking: CookingTicket = { orderId: ticket.orderId, recipe: ticket.recipe, requestedAt: ticket.requestedAt, status: 'cooking', dispatchedAt: at, readyAt };
  return cookTimeMs > 0 ? cooking : { ...cooking, status: 'delivered', deliveredAt: at };
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
