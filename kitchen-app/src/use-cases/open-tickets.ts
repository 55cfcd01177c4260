import { recipeBook, type OrderPlacedV1 } from '@free-lunch/contracts';
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
 * whatever that ticket has reached, which repairs any message lost downstream. The tickets and
 * their announcements are written by one statement, together or not at all; the re-sent messages
 * of tickets that existed follow in a second, since they only repeat what is already true.
 */
export async function openTicketsForPlacedOrders(kitchen: Kitchen, placed: readonly OrderPlacedV1[]): Promise<void> {
  const orderIds = [...new Set(placed.map((order) => order.orderId))];
  const requestedAt = new Date();
  // Drawn for every order, but only kept where the order has no ticket yet.
  const openings = orderIds.map((orderId) => ({ orderId, recipe: chooseRecipe() }));
  const announcements = openings.flatMap(({ orderId, recipe }) =>
    openingMessages({ orderId, recipe, requestedAt, status: 'awaiting_ingredients', ingredients: recipeBook[recipe] }).map(
      (message) => ({ ...message, key: orderId }),
    ),
  );

  const { opened, existing, outbox } = await openTickets(kitchen.pool, openings, requestedAt, announcements);
  kitchen.publishNow(outbox);
  kitchen.metrics.ticketsOpened(opened.size);
  if (existing.length === 0) return;

  kitchen.publishNow(await enqueueOutbox(kitchen.pool, OUTBOX_TABLE, existing.flatMap(reDriveMessages)));
  kitchen.metrics.ticketsReDriven(existing.length);
  kitchen.log.debug({ orders: existing.map((t) => t.orderId) }, 're-drove tickets of orders placed again');
}
