import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { type Redis } from 'ioredis';
import { streamNames, type MessageOf, type StreamName } from '@free-lunch/contracts';
import { startServiceUnderTest, type ServiceUnderTest, type UnderTestOptions } from '@free-lunch/service-kit/testing';
import { StreamPublisher, streamKey } from '@free-lunch/streams';
import { buildApp } from '../../src/app.js';
import { OrdersConfig } from '../../src/config.js';

export const MANAGER_TOKEN = 'test-manager-token-0123456789abcdefghijklmnop';
export const managerHeaders = { authorization: `Bearer ${MANAGER_TOKEN}` };

/** orders-app under test (see startServiceUnderTest), with a publisher writing as the kitchen or the warehouse would. */
export type OrdersUnderTest = ServiceUnderTest<OrdersConfig> & { publisher: StreamPublisher };

/**
 * orders-app built as server.ts builds it, on its own database and key prefix, with the manager's
 * token. The reconciler sleeps for an hour unless `options.env` sets it.
 */
export async function startOrdersUnderTest(options: UnderTestOptions = {}): Promise<OrdersUnderTest> {
  const orders = await startServiceUnderTest({
    schema: 'orders',
    config: OrdersConfig,
    buildApp,
    defaults: { MANAGER_TOKEN, RECONCILE_INTERVAL_MS: '3600000' },
    ...options,
  });
  return Object.assign(orders, { publisher: new StreamPublisher(orders.redis, { prefix: orders.keyPrefix }) });
}

/** POST /orders as the manager. */
export function postOrders(
  app: FastifyInstance,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<LightMyRequestResponse> {
  return app.inject({ method: 'POST', url: '/orders', headers: { ...managerHeaders, ...headers }, payload: body as object });
}

/** The messages on one of this test's streams, oldest first. */
export async function streamMessages<S extends StreamName>(
  redis: Redis,
  prefix: string,
  stream: S,
): Promise<Array<{ id: string; message: MessageOf<S> }>> {
  const entries = await redis.xrange(streamKey(prefix, stream), '-', '+');
  return entries.map(([id, fields]) => ({ id, message: JSON.parse(fields[1]!) as MessageOf<S> }));
}

/** The order ids announced on orders.placed, in order, repeats included. */
export async function placedOrderIds(redis: Redis, prefix: string): Promise<string[]> {
  return (await streamMessages(redis, prefix, streamNames.orderPlaced)).map(({ message }) => message.orderId);
}

/** How many rows a table of the orders schema holds. */
export async function countRows(app: FastifyInstance, table: 'orders' | 'order_timeline' | 'outbox' | 'idempotency_keys'): Promise<number> {
  const result = await app.pg.query<{ count: string }>(`SELECT count(*) AS count FROM ${table}`);
  return Number(result.rows[0]!.count);
}

/** Messages waiting in the outbox (enqueueOutbox writes a transaction's messages for a stream as one row). */
export async function outboxMessages(app: FastifyInstance): Promise<number> {
  const result = await app.pg.query<{ count: string }>(
    `SELECT coalesce(sum(CASE WHEN jsonb_typeof(message) = 'array' THEN jsonb_array_length(message) ELSE 1 END), 0) AS count
       FROM outbox`,
  );
  return Number(result.rows[0]!.count);
}

/** A kitchen status event for `orderId`. */
export function statusEvent(
  orderId: string,
  status: MessageOf<typeof streamNames.orderStatusChanged>['status'],
  at: string,
): MessageOf<typeof streamNames.orderStatusChanged> {
  return { type: 'order.status-changed', version: 1, orderId, status, recipe: status === 'queued' ? null : 'burger', at };
}
