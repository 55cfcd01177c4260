import type { OrderPlacedV1 } from '@free-lunch/contracts';
import { inTransaction } from '@free-lunch/service-kit';
import { enqueueOutbox } from '@free-lunch/streams';
import { OUTBOX_TABLE } from '../data/schema.js';
import { openTickets } from '../data/tickets.js';
import { openingMessages, reDriveMessages } from '../domain/announcements.js';
import { chooseRecipe } from '../domain/recipe.js';
import type { Kitchen } from './kitchen-ports.js';

/**
 * Orders were placed: open a ticket for each, with a recipe chosen at random, and ask the
 * warehouse for its ingredients.
 *
 * Idempotent by order id. An order that already has a ticket (a redelivery, or the orders
 * reconciler nudging work it thinks is stuck) keeps its ticket and recipe; the kitchen re-sends
 * whatever that ticket has reached, which repairs any message lost downstream. The whole batch is
 * one transaction: tickets and their announcements are written together or not at all.
 */
export async function openTicketsForPlacedOrders(kitchen: Kitchen, placed: readonly OrderPlacedV1[]): Promise<void> {
  const orderIds = [...new Set(placed.map((order) => order.orderId))];
  // Drawn for every order, but only kept where the order has no ticket yet.
  const openings = orderIds.map((orderId) => ({ orderId, recipe: chooseRecipe() }));

  const { opened, existing, outbox } = await inTransaction(kitchen.pool, async (tx) => {
    const tickets = await openTickets(tx, openings);
    const rows = await enqueueOutbox(tx, OUTBOX_TABLE, [
      ...tickets.opened.flatMap(openingMessages),
      ...tickets.existing.flatMap(reDriveMessages),
    ]);
    return { ...tickets, outbox: rows };
  });

  kitchen.publishNow(outbox);
  kitchen.metrics.ticketsOpened(opened.length);
  kitchen.metrics.ticketsReDriven(existing.length);
  if (existing.length > 0) {
    kitchen.log.debug({ orders: existing.map((t) => t.orderId) }, 're-drove tickets of orders placed again');
  }
}
