import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames, type PlaceOrdersResponse } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { streamKey } from '@free-lunch/streams';
import { countRows, postOrders, startOrdersUnderTest, statusEvent, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
beforeEach(async () => {
  orders = await startOrdersUnderTest({ env: { MAX_OUTSTANDING_ORDERS: '10' } });
});
afterEach(async () => {
  await orders.close();
});

async function rowCounts() {
  return {
    orders: await countRows(orders.app, 'orders'),
    timeline: await countRows(orders.app, 'order_timeline'),
    keys: await countRows(orders.app, 'idempotency_keys'),
    // Rows leave the outbox once published: count what was ever announced instead.
    announced: await orders.redis.xlen(streamKey(orders.keyPrefix, streamNames.orderPlaced)),
  };
}

async function deliver(ids: string[]) {
  const at = new Date(Date.now() + 1000).toISOString();
  await orders.publisher.publishMany(
    ids.map((id) => ({ stream: streamNames.orderStatusChanged, message: statusEvent(id, 'delivered', at) })),
  );
}

describe('POST /orders when the kitchen backlog is full (MAX_OUTSTANDING_ORDERS=10)', () => {
  it('when orders fill the backlog, then one more is refused with 429 and Retry-After and nothing is stored', async () => {
    const first = await postOrders(orders.app, { quantity: 4 });
    const second = await postOrders(orders.app, { quantity: 6 }, { 'idempotency-key': 'fills-it' });
    expect([first.statusCode, second.statusCode]).toEqual([202, 202]);
    await eventually('ten orders announced', async () => expect((await rowCounts()).announced).toBe(10));
    const before = await rowCounts();

    const refused = await postOrders(orders.app, { quantity: 1 }, { 'idempotency-key': 'one-too-many' });

    expect(refused.statusCode).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.json()).toEqual({ error: 'too_many_outstanding_orders', message: expect.stringContaining('10') });
    expect(await rowCounts()).toEqual(before);
    expect(before).toMatchObject({ orders: 10, timeline: 10, keys: 1 });
  });

  it('when a request already answered is retried at the cap, then it gets its first answer', async () => {
    const first = await postOrders(orders.app, { quantity: 10 }, { 'idempotency-key': 'whole-backlog' });
    expect(first.statusCode).toBe(202);

    const retry = await postOrders(orders.app, { quantity: 10 }, { 'idempotency-key': 'whole-backlog' });

    expect(retry.statusCode).toBe(202);
    expect(retry.json()).toEqual(first.json());
    expect(await countRows(orders.app, 'orders')).toBe(10);
  });

  it('when the manager asks for more than the backlog may ever hold, then it is refused', async () => {
    const refused = await postOrders(orders.app, { quantity: 11 });
    expect(refused.statusCode).toBe(429);
    expect(await countRows(orders.app, 'orders')).toBe(0);
  });

  it('when the waiting orders are delivered, then new orders are taken again, under the same key that was refused', async () => {
    const placed = (await postOrders(orders.app, { quantity: 10 })).json<PlaceOrdersResponse>().orders;
    expect((await postOrders(orders.app, { quantity: 3 }, { 'idempotency-key': 'after-rush' })).statusCode).toBe(429);

    await deliver(placed.map((order) => order.id));

    // The refusal above left the key unused; the cap sees the deliveries at its next count.
    await eventually('an order to be accepted again', async () => {
      expect((await postOrders(orders.app, { quantity: 3 }, { 'idempotency-key': 'after-rush' })).statusCode).toBe(202);
    });
    expect(await countRows(orders.app, 'orders')).toBe(13);
    expect((await postOrders(orders.app, { quantity: 7 })).statusCode).toBe(202);
    expect((await postOrders(orders.app, { quantity: 1 })).statusCode).toBe(429);
  });

  it('when many requests race for the last places, then exactly the cap is placed', async () => {
    const answers = await Promise.all(Array.from({ length: 25 }, () => postOrders(orders.app, { quantity: 1 })));

    expect(answers.filter((answer) => answer.statusCode === 202)).toHaveLength(10);
    expect(answers.filter((answer) => answer.statusCode === 429)).toHaveLength(15);
    expect(await countRows(orders.app, 'orders')).toBe(10);
  });
});
