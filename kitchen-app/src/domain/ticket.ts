import type { IngredientQuantity, OrderStatus, RecipeName } from '@free-lunch/contracts';

/** Where a ticket is on the pass; the kitchen's share of an order's lifecycle. */
export const ticketStatuses = ['awaiting_ingredients', 'cooking', 'delivered'] as const satisfies readonly OrderStatus[];
export type TicketStatus = (typeof ticketStatuses)[number];

interface TicketBase {
  orderId: string;
  recipe: RecipeName;
  /** When the kitchen opened the ticket and asked the warehouse for the ingredients. */
  requestedAt: Date;
}

export interface AwaitingTicket extends TicketBase {
  status: 'awaiting_ingredients';
}

export interface CookingTicket extends TicketBase {
  status: 'cooking';
  /** When the ingredients reached the kitchen and cooking began. */
  dispatchedAt: Date;
  /** When the dish will be done. */
  readyAt: Date;
}

export interface DeliveredTicket extends TicketBase {
  status: 'delivered';
  dispatchedAt: Date;
  readyAt: Date;
  deliveredAt: Date;
}

/** One order's dish in the kitchen. Each status carries exactly the timestamps it has reached. */
export type Ticket = AwaitingTicket | CookingTicket | DeliveredTicket;

/** A ticket together with what its recipe needs, so the ingredients request can be (re)written. */
export type TicketWithIngredients = Ticket & { ingredients: readonly IngredientQuantity[] };

/**
 * The moves a ticket makes (with no cooking time the two happen in one update, from awaiting
 * ingredients straight to delivered). The data layer applies a move only to tickets still in its
 * `from` status, so a duplicate or late message can neither move a ticket twice nor backwards.
 */
export const ticketTransitions = {
  startCooking: { from: 'awaiting_ingredients', to: 'cooking' },
  deliver: { from: 'cooking', to: 'delivered' },
} as const satisfies Record<string, { from: TicketStatus; to: TicketStatus }>;

/** What the kitchen does with an `ingredients.dispatched` message, given the ticket it names. */
export type DispatchDecision =
  | { action: 'start_cooking' }
  /** A redelivery or a repair re-send: the ticket has already moved on, so there is nothing to do. */
  | { action: 'already_started'; status: TicketStatus }
  /** No ticket for that order: retrying cannot make one appear (see `decideOnDispatch`). */
  | { action: 'unknown_order' }
  /** The warehouse sent another recipe's ingredients: cooking this ticket from them would be a lie. */
  | { action: 'wrong_recipe'; ticketRecipe: RecipeName };

/**
 * Decides whether a dispatch starts cooking a ticket.
 *
 * A ticket and its ingredients request are written in the same transaction, and the request is
 * the only way the warehouse learns about an order, so a dispatch for an order without a ticket
 * (or for another recipe) means one side lost data or a foreign producer wrote to the stream. Such
 * a dispatch is reported and skipped, never retried: retrying would not change the answer.
 */
export function decideOnDispatch(
  ticket: Ticket | undefined,
  dispatch: { recipe: RecipeName },
): DispatchDecision {
  if (!ticket) return { action: 'unknown_order' };
  if (ticket.status !== ticketTransitions.startCooking.from) {
    return { action: 'already_started', status: ticket.status };
  }
  if (ticket.recipe !== dispatch.recipe) return { action: 'wrong_recipe', ticketRecipe: ticket.recipe };
  return { action: 'start_cooking' };
}

/** A dispatch the kitchen will not cook from, and why. */
export interface IgnoredDispatch {
  orderId: string;
  dispatchedRecipe: RecipeName;
  decision: Extract<DispatchDecision, { action: 'unknown_order' | 'wrong_recipe' }>;
}

/**
 * Sorts a batch of dispatches against the tickets they name: which orders start cooking, and
 * which dispatches are ignored as not matching a waiting ticket. Redeliveries for tickets that
 * already started are in neither: they are the expected echo of at-least-once delivery.
 */
export function triageDispatches(
  tickets: readonly Ticket[],
  dispatches: ReadonlyArray<{ orderId: string; recipe: RecipeName }>,
): { toCook: string[]; ignored: IgnoredDispatch[] } {
  const byOrder = new Map(tickets.map((ticket) => [ticket.orderId, ticket]));
  const toCook = new Set<string>();
  const ignored: IgnoredDispatch[] = [];
  for (const dispatch of dispatches) {
    const decision = decideOnDispatch(byOrder.get(dispatch.orderId), dispatch);
    if (decision.action === 'start_cooking') toCook.add(dispatch.orderId);
    else if (decision.action !== 'already_started') {
      ignored.push({ orderId: dispatch.orderId, dispatchedRecipe: dispatch.recipe, decision });
    }
  }
  return { toCook: [...toCook], ignored };
}
