import type pg from 'pg';
import type { IngredientsRequestedV1 } from '@free-lunch/contracts';
import { enqueueOutbox, type PublishCommitted } from '@free-lunch/streams';
import { findDispatchedRequests, insertRequests, type IngredientRequest } from '../data/requests.js';
import { OUTBOX_TABLE } from '../data/schema.js';
import { combineNeeds } from '../domain/dispatch-plan.js';
import { ingredientsDispatched } from './outbox-messages.js';

export interface ReceiveRequestsDeps {
  pool: pg.Pool;
  /** Publishes outbox rows now (the relay): called after the commit that wrote them. */
  publishNow: PublishCommitted;
}

/**
 * Takes a batch of ingredient requests from the kitchen, idempotently by order id. A request seen
 * for the first time joins the queue: one statement stores the new ones, adds what they need to the
 * pending totals and announces them. A request seen before and still waiting changes nothing. A
 * request whose ingredients already left gets its `ingredients.dispatched` sent again: the kitchen
 * asks again only when it never heard (a lost message, Redis losing its data), and this is how that
 * repairs itself.
 *
 * New requests are announced when the statement commits; the replica that buys at the market
 * hears it and allocates for them (see `Purchaser`), whichever replica received them. While no
 * replica buys (at start-up, during a takeover), the allocators' sweep serves them.
 */
export async function receiveRequests(deps: ReceiveRequestsDeps, messages: readonly IngredientsRequestedV1[]): Promise<void> {
  const requests = onePerOrder(messages).map(toRequest);
  const added = new Set(await insertRequests(deps.pool, requests));
  const seenBefore = requests.filter((request) => !added.has(request.orderId)).map((r) => r.orderId);
  if (seenBefore.length === 0) return;

  // Only repeats what is true already, so it needs no transaction with anything.
  const alreadyDispatched = await findDispatchedRequests(deps.pool, seenBefore);
  if (alreadyDispatched.length === 0) return;
  deps.publishNow(await enqueueOutbox(deps.pool, OUTBOX_TABLE, alreadyDispatched.map(ingredientsDispatched)));
}

/** A batch may carry the same order twice (a redelivery next to a nudge); the first one counts. */
function onePerOrder(messages: readonly IngredientsRequestedV1[]): IngredientsRequestedV1[] {
  const seen = new Set<string>();
  return messages.filter((message) => !seen.has(message.orderId) && seen.add(message.orderId));
}

function toRequest(message: IngredientsRequestedV1): IngredientRequest {
  return {
    orderId: message.orderId,
    recipe: message.recipe,
    needs: combineNeeds(message.ingredients),
    requestedAt: new Date(message.requestedAt),
  };
}
