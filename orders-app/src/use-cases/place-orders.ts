import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { OrderSummaryItem, PlaceOrdersResponse } from '@free-lunch/contracts';
import { AppError } from '@free-lunch/service-kit';
import type { PublishCommitted } from '@free-lunch/streams';
import { findFirstUse, type FirstUse } from '../data/idempotency-keys.js';
import { placeQueuedOrders } from '../data/orders.js';
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
 * The manager asks for `quantity` free lunches. The orders, their first timeline step, the
 * `order.placed` events and the Idempotency-Key with its answer are written by one statement, so
 * an order is in PostgreSQL before the answer and its event cannot be lost even if Redis is down:
 * the relay publishes it later.
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
  const { idempotencyKey: key } = request;
  try {
    if (!admission) {
      // Without a key there is no first answer to look for: refused before taking a connection.
      const firstUse = key === undefined ? null : await findFirstUse(deps.pool, key);
      if (firstUse) return answerToRetry(firstUse, request);
      throw full();
    }

    const at = new Date();
    const orders: OrderSummaryItem[] = Array.from({ length: request.quantity }, () => ({
      id: randomUUID(),
      status: 'queued',
      recipe: null,
      createdAt: at.toISOString(),
      updatedAt: at.toISOString(),
    }));
    const response: PlaceOrdersResponse = { orders };
    const { placed, outbox } = await placeQueuedOrders(
      deps.pool,
      {
        ids: orders.map((order) => order.id),
        at,
        idempotency: key === undefined ? undefined : { key, quantity: request.quantity, response },
      },
      orders.map((order) => ({ ...orderPlacedEvent(order), key: order.id })),
    );
    if (!placed) return answerToRetry(await firstUseOf(deps.pool, key!), request);

    admission.placed();
    deps.publishNow(outbox);
    return response;
  } finally {
    // Placed orders were counted above; anything else gives its room back.
    admission?.cancelled();
  }
}

/** The first use of a key the placement has just found taken: keys are forgotten only after a day. */
async function firstUseOf(pool: pg.Pool, key: string): Promise<FirstUse> {
  const firstUse = await findFirstUse(pool, key);
  if (!firstUse) throw new Error(`Idempotency-Key ${key} was taken a moment ago and is gone now`);
  return firstUse;
}

function answerToRetry(
  firstUse: FirstUse,
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
