import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { PlaceOrdersResponse } from '@free-lunch/contracts';
import { AppError, inTransaction } from '@free-lunch/service-kit';
import { enqueueOutbox, type PublishCommitted } from '@free-lunch/streams';
import { claimIdempotencyKey, storeIdempotentResponse } from '../data/idempotency-keys.js';
import { insertQueuedOrders } from '../data/orders.js';
import { OUTBOX_TABLE } from '../data/schema.js';
import type { BacklogCap } from '../domain/backlog-cap.js';
import { orderPlacedEvent } from '../domain/order-placed.js';

export interface PlaceOrdersDeps {
  pool: pg.Pool;
  /** Publishes the outbox rows now (the relay), called once the orders are committed so they reach the kitchen at once. */
  publishNow: PublishCommitted;
  /** MAX_OUTSTANDING_ORDERS: how many undelivered orders the kitchen may have waiting. */
  backlog: BacklogCap;
}

export interface PlaceOrdersRequest {
  quantity: number;
  /** Retrying with the same key returns the first answer instead of placing more orders. */
  idempotencyKey?: string;
}

/** 429: the kitchen's backlog is full; the error handler sends `Retry-After`. */
export class BacklogFull extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    { outstanding, max, quantity }: { outstanding: number; max: number; quantity: number },
  ) {
    super(
      'too_many_outstanding_orders',
      `${outstanding} orders are waiting to be delivered and at most ${max} may wait at once, so ${quantity} more ` +
        `cannot be taken now; try again in ${retryAfterSeconds} s, once some are delivered.`,
      429,
    );
  }
}

/**
 * The manager asks for `quantity` free lunches. The orders, their first timeline step and the
 * `order.placed` events are written in one transaction, so an order is in PostgreSQL before the
 * answer and its event cannot be lost even if Redis is down: the relay publishes it later.
 *
 * When the backlog is full nothing is stored, the Idempotency-Key included; a retry of a request
 * that was already answered still gets its first answer, since it places nothing.
 */
export async function placeOrders(deps: PlaceOrdersDeps, request: PlaceOrdersRequest): Promise<PlaceOrdersResponse> {
  const admission = await deps.backlog.admit(request.quantity);
  const full = () =>
    new BacklogFull(Math.ceil(deps.backlog.refreshMs / 1000), {
      outstanding: deps.backlog.outstanding(),
      max: deps.backlog.max,
      quantity: request.quantity,
    });
  // Without a key there is no first answer to look for: refused before taking a connection.
  if (!admission && request.idempotencyKey === undefined) throw full();

  try {
    const { response, placedNow, outbox } = await inTransaction(deps.pool, async (tx) => {
      if (request.idempotencyKey !== undefined) {
        const firstUse = await claimIdempotencyKey(tx, request.idempotencyKey, request.quantity);
        if (firstUse) return { response: answerToRetry(firstUse, request), placedNow: false, outbox: [] };
      }
      // Thrown inside the transaction, so the key just claimed is rolled back with it.
      if (!admission) throw full();

      const ids = Array.from({ length: request.quantity }, () => randomUUID());
      const orders = await insertQueuedOrders(tx, ids);
      const outbox = await enqueueOutbox(tx, OUTBOX_TABLE, orders.map(orderPlacedEvent));

      const placed: PlaceOrdersResponse = { orders };
      if (request.idempotencyKey !== undefined) await storeIdempotentResponse(tx, request.idempotencyKey, placed);
      return { response: placed, placedNow: true, outbox };
    });

    if (placedNow) {
      admission?.placed();
      deps.publishNow(outbox);
    }
    return response;
  } finally {
    // Placed orders were counted above; anything else gives its room back.
    admission?.cancelled();
  }
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
