import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames, type PlaceOrdersResponse } from '@free-lunch/contracts';
import { eventually, RedisProxy } from '@free-lunch/service-kit/testing';
import { streamBacklog } from '@free-lunch/streams';
import {
  countRows,
  outboxMessages,
  placedOrderIds,
  postOrders,
  startOrdersUnderTest,
  statusEvent,
  type OrdersUnderTest,
} from './support/orders-app.js';

let redisLink: RedisProxy;
let orders: OrdersUnderTest;
beforeEach(async () => {
  redisLink = await RedisProxy.start();
  // Every Redis connection of the app (relay, consumer, live feed) goes through this link.
  orders = await startOrdersUnderTest({ env: { REDIS_URL: redisLink.url } });
  // Redis fails while the service is up and running, not while its connections are still being
  // opened: wait until the status consumer has read an event through its own connection.
  await orders.publisher.publish(streamNames.orderStatusChanged, statusEvent(randomUUID(), 'cooking', new Date().toISOString()));
  await eventually('the status consumer to have read through the link', async () => {
    const [backlog] = await streamBacklog(orders.redis, orders.keyPrefix, [{ stream: streamNames.orderStatusChanged, group: 'orders' }]);
    expect(backlog).toMatchObject({ lag: 0, pending: 0 });
  });
});
afterEach(async () => {
  await redisLink.plugIn();
  await orders.close();
  await redisLink.close();
});

describe('the transactional outbox', () => {
  it('when Redis is unreachable, then orders are still accepted and reach the kitchen once Redis is back', async () => {
    await redisLink.unplug();

    const response = await postOrders(orders.app, { quantity: 20 });

    expect(response.statusCode).toBe(202);
    const placed = response.json<PlaceOrdersResponse>().orders.map((order) => order.id);
    expect(await countRows(orders.app, 'orders')).toBe(20);
    // The events wait in PostgreSQL; none reached the stream (read directly, not through the outage).
    expect(await outboxMessages(orders.app)).toBe(20);
    expect(await placedOrderIds(orders.redis, orders.keyPrefix)).toEqual([]);

    await redisLink.plugIn();

    await eventually('every order announced once Redis is back', async () => expect((await placedOrderIds(orders.redis, orders.keyPrefix)).sort()).toEqual(placed.sort()), {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    await eventually('the outbox to be empty', async () => expect(await countRows(orders.app, 'outbox')).toBe(0));
  });
});
