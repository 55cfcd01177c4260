import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Redis } from 'ioredis';
import { streamNames, type MessageOf, type StreamName } from '@free-lunch/contracts';
import { parseConfig } from '@free-lunch/service-kit';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix, type TestDatabase } from '@free-lunch/service-kit/testing';
import { StreamPublisher, streamKey } from '@free-lunch/streams';
import { buildApp } from '../../src/app.js';
import { OrdersConfig } from '../../src/config.js';

export const MANAGER_TOKEN = 'test-manager-token-0123456789abcdefghijklmnop';
export const managerHeaders = { authorization: `Bearer ${MANAGER_TOKEN}` };

/** One orders-app on its own database and key prefix, plus what a test needs to look at it. */
export interface OrdersAppUnderTest {
  app: FastifyInstance;
  prefix: string;
  db: TestDatabase;
  /** A direct connection to the shared Redis, for looking at and writing to this test's streams. */
  redis: Redis;
  /** Publishes as the kitchen or the warehouse would, under this test's prefix. */
  publisher: StreamPublisher;
  close(): Promise<void>;
}

/**
 * Builds orders-app exactly as server.ts does (environment → parseConfig → buildApp) on a fresh
 * database and key prefix. The reconciler sleeps for an hour unless a test sets it.
 */
export async function startOrdersApp(env: Record<string, string> = {}): Promise<OrdersAppUnderTest> {
  const db = await createTestDatabase();
  const prefix = testKeyPrefix();
  const config = parseConfig(OrdersConfig, {
    // As in production: its own roles, migrations as the schema's owner, the rest as a role that
    // may only read and write the orders tables.
    ...(await db.serviceEnv('orders')),
    REDIS_URL: testEnv.redisUrl,
    KEY_PREFIX: prefix,
    LOG_LEVEL: 'silent',
    MANAGER_TOKEN,
    RECONCILE_INTERVAL_MS: '3600000',
    ...env,
  });
  const app = await buildApp(config);
  await app.ready();
  const redis = new Redis(testEnv.redisUrl);
  return {
    app,
    prefix,
    db,
    redis,
    publisher: new StreamPublisher(redis, { prefix }),
    async close() {
      await app.close();
      await deleteTestKeys(prefix, redis);
      await redis.quit();
      await db.drop();
    },
  };
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
