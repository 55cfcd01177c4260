import { randomUUID } from 'node:crypto';
import type { PlaceOrdersResponse } from '@free-lunch/contracts';
import { AppError, inTransaction } from '@free-lunch/service-kit';
import { enqueueOutbox } from '@free-lunch/streams';
import type pg from 'pg';
import { claimIdempotencyKey, storeIdempotentResponse } from '../data/idempotency-keys.js';
import { insertQueuedOrders } from '../data/orders.js';
import { OUTBOX_TABLE } from '../data/schema.js';
import { orderPlacedEvent } from '../domain/order-placed.js';

export interface PlaceOrdersDeps {
  pool: pg.Pool;
  /** The outbox relay, woken once the orders are committed so they reach the kitchen at once. */
  relay: { wake(): void };
}

export interface PlaceOrdersRequest {
  quantity: number;
  /** Retrying with the same key returns the first answer instead of placing more orders. */
  idempotencyKey?: string;
}

/**
 * The manager asks for `quantity` free lunches. The orders, their first timeline step and the
 * `order.placed` events are written in one transaction, so an order is in PostgreSQL before the
 * answer and its event cannot be lost even if Redis is down: the relay publishes it later.
 */
export async function placeOrders(deps: PlaceOrdersDeps, request: PlaceOrdersRequest): Promise<PlaceOrdersResponse> {
  const { response, placedNow } = await inTransaction(deps.pool, async (tx) => {
    if (request.idempotencyKey !== undefined) {
      const firstUse = await claimIdempotencyKey(tx, request.idempotencyKey, request.quantity);
      if (firstUse) return { response: answerToRetry(firstUse, request), placedNow: false };
    }

    const ids = Array.from({ length: request.quantity }, () => randomUUID());
    const orders = await insertQueuedOrders(tx, ids);
    await enqueueOutbox(tx, OUTBOX_TABLE, orders.map(orderPlacedEvent));

    const placed: PlaceOrdersResponse = { orders };
    if (request.idempotencyKey !== undefined) await storeIdempotentResponse(tx, request.idempotencyKey, placed);
    return { response: placed, placedNow: true };
  });

  if (placedNow) deps.relay.wake();
  return response;
}

function answerToRetry(
  firstUse: { quantity: number; response: PlaceOrdersResponse },
  request: PlaceOrdersRequest,
): PlaceOrdersResponse {
  // A reused key with another quantity is a client bug; answering the old orders would hide it.
  if (firstUse.quantity !== request.quantity) {
    throw new AppError(
      'idempotency_key_reused',
      `Idempotency-Key was first used to place ${firstUse.quantity} orders, not ${request.quantity}; use a new key for a new request.`,
      422,
    );
  }
  return firstUse.response;
}
