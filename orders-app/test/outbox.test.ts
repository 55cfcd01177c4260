import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { streamNames, type PlaceOrdersResponse } from '@free-lunch/contracts';
import { RedisProxy } from '@free-lunch/service-kit/testing';
import { streamBacklog } from '@free-lunch/streams';
import {
  countRows,
  outboxMessages,
  placedOrderIds,
  postOrders,
  startOrdersApp,
  statusEvent,
  type OrdersAppUnderTest,
} from './support/orders-app.js';

let redisLink: RedisProxy;
let orders: OrdersAppUnderTest;
beforeEach(async () => {
  redisLink = await RedisProxy.start();
  // Every Redis connection of the app (relay, consumer, live feed) goes through this link.
  orders = await startOrdersApp({ REDIS_URL: redisLink.url });
  // Redis fails while the service is up and running, not while its connections are still being
  // opened: wait until the status consumer has read an event through its own connection.
  await orders.publisher.publish(streamNames.orderStatusChanged, statusEvent(randomUUID(), 'cooking', new Date().toISOString()));
  await vi.waitFor(async () => {
    const [backlog] = await streamBacklog(orders.redis, orders.prefix, [{ stream: streamNames.orderStatusChanged, group: 'orders' }]);
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
    expect(await placedOrderIds(orders.redis, orders.prefix)).toEqual([]);

    await redisLink.plugIn();

    await vi.waitFor(async () => expect((await placedOrderIds(orders.redis, orders.prefix)).sort()).toEqual(placed.sort()), {
      timeout: 20_000,
      interval: 200,
    });
    await vi.waitFor(async () => expect(await countRows(orders.app, 'outbox')).toBe(0));
  });
});
