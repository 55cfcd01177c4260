import {
  streamNames,
  type IngredientsRequestedV1,
  type OrderStatus,
  type OrderStatusChangedV1,
} from '@free-lunch/contracts';
import type { DeliveredTicket, Ticket, TicketWithIngredients } from './ticket.js';

/** A message the kitchen writes to its outbox. */
export type KitchenMessage =
  | { stream: typeof streamNames.ingredientsRequested; message: IngredientsRequestedV1 }
  | { stream: typeof streamNames.orderStatusChanged; message: OrderStatusChangedV1 };

function statusChanged(ticket: Pick<Ticket, 'orderId' | 'recipe'>, status: OrderStatus, at: Date): KitchenMessage {
  return {
    stream: streamNames.orderStatusChanged,
    message: {
      type: 'order.status-changed',
      version: 1,
      orderId: ticket.orderId,
      status,
      recipe: ticket.recipe,
      at: at.toISOString(),
    },
  };
}

function ingredientsRequest(ticket: TicketWithIngredients): KitchenMessage {
  return {
    stream: streamNames.ingredientsRequested,
    message: {
      type: 'ingredients.requested',
      version: 1,
      orderId: ticket.orderId,
      recipe: ticket.recipe,
      ingredients: ticket.ingredients.map(({ ingredient, quantity }) => ({ ingredient, quantity })),
      requestedAt: ticket.requestedAt.toISOString(),
    },
  };
}

/**
 * Everything downstream must have heard for it to be up to date with this ticket, rebuilt from the
 * ticket alone (its own recipe and timestamps, never a new choice), so sending it again is harmless:
 * the warehouse keys requests by order id and the orders service only moves statuses forward.
 *
 * - awaiting ingredients: the ingredients request and the `awaiting_ingredients` status;
 * - cooking: every status reached so far (the warehouse already delivered, so no request);
 * - delivered: likewise, up to `delivered`.
 *
 * This is what makes the orders reconciler's nudge (a repeated `order.placed`) repair a message
 * lost anywhere downstream of the kitchen.
 */
export function reDriveMessages(ticket: TicketWithIngredients): KitchenMessage[] {
  const awaiting = statusChanged(ticket, 'awaiting_ingredients', ticket.requestedAt);
  switch (ticket.status) {
    case 'awaiting_ingredients':
      return [ingredientsRequest(ticket), awaiting];
    case 'cooking':
      return [awaiting, statusChanged(ticket, 'cooking', ticket.dispatchedAt)];
    case 'delivered':
      return [
        awaiting,
        statusChanged(ticket, 'cooking', ticket.dispatchedAt),
        statusChanged(ticket, 'delivered', ticket.deliveredAt),
      ];
  }
}

/** A freshly opened ticket is announced exactly as a re-driven waiting one: request + status. */
export function openingMessages(ticket: TicketWithIngredients): KitchenMessage[] {
  return reDriveMessages(ticket);
}

/**
 * A dish went on the stove at `at`: cooking, and with no cooking time also delivered in the same
 * breath.
 */
export function cookedMessages(dish: Pick<Ticket, 'orderId' | 'recipe'>, at: Date, deliveredToo: boolean): KitchenMessage[] {
  const cooking = statusChanged(dish, 'cooking', at);
  return deliveredToo ? [cooking, statusChanged(dish, 'delivered', at)] : [cooking];
}

export function dishDeliveredMessages(ticket: DeliveredTicket): KitchenMessage[] {
  return [statusChanged(ticket, 'delivered', ticket.deliveredAt)];
}
