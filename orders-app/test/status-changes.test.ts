import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames, type Order, type PlaceOrdersResponse } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { streamBacklog } from '@free-lunch/streams';
import { recordProgress } from '../src/data/orders.js';
import { applyStatusChanges } from '../src/use-cases/apply-status-changes.js';
import { postOrders, startOrdersUnderTest, statusEvent, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
beforeEach(async () => {
  orders = await startOrdersUnderTest();
});
afterEach(async () => {
  await orders.close();
});

const startedAt = Date.now();
/** A kitchen timestamp a little after the test started (status changes come after the order). */
function secondsFromNow(seconds: number): string {
  return new Date(startedAt + seconds * 1000).toISOString();
}

async function placeOne(): Promise<string> {
  return (await postOrders(orders.app, { quantity: 1 })).json<PlaceOrdersResponse>().orders[0]!.id;
}

async function getOrder(id: string): Promise<Order> {
  return (await orders.app.inject({ method: 'GET', url: `/orders/${id}` })).json<Order>();
}

/** Waits until the orders group has read and acknowledged everything on the kitchen's stream. */
async function untilStatusEventsApplied(): Promise<void> {
  await eventually('the status events to be applied', async () => {
    const [backlog] = await streamBacklog(orders.redis, orders.keyPrefix, [
      { stream: streamNames.orderStatusChanged, group: 'orders' },
    ]);
    expect(backlog).toMatchObject({ lag: 0, pending: 0 });
  });
}

function kitchenReports(...events: Array<ReturnType<typeof statusEvent>>) {
  return orders.publisher.publishMany(events.map((message) => ({ stream: streamNames.orderStatusChanged, message })));
}

describe('status events from the kitchen', () => {
  it('when the kitchen reports each step, then the order follows them to delivered with its recipe and timeline', async () => {
    const id = await placeOne();

    await kitchenReports(
      statusEvent(id, 'awaiting_ingredients', secondsFromNow(1)),
      statusEvent(id, 'cooking', secondsFromNow(2)),
      statusEvent(id, 'delivered', secondsFromNow(3)),
    );

    await eventually('the order to be delivered', async () => expect((await getOrder(id)).status).toBe('delivered'));
    const order = await getOrder(id);
    expect(order.recipe).toBe('burger');
    expect(order.timeline).toEqual([
      { status: 'queued', at: expect.any(String) },
      { status: 'awaiting_ingredients', at: secondsFromNow(1) },
      { status: 'cooking', at: secondsFromNow(2) },
      { status: 'delivered', at: secondsFromNow(3) },
    ]);
  });

  it('when a cooking event arrives after delivered, then the order stays delivered and the timeline has both', async () => {
    const id = await placeOne();

    await kitchenReports(
      statusEvent(id, 'awaiting_ingredients', secondsFromNow(1)),
      statusEvent(id, 'delivered', secondsFromNow(3)),
    );
    await untilStatusEventsApplied();
    await kitchenReports(statusEvent(id, 'cooking', secondsFromNow(2)));
    await untilStatusEventsApplied();

    const order = await getOrder(id);
    expect(order.status).toBe('delivered');
    expect(order.timeline.map((line) => line.status)).toEqual(['queued', 'awaiting_ingredients', 'cooking', 'delivered']);
  });

  it('when the same events are delivered again, then they have no further effect', async () => {
    const id = await placeOne();
    const events = [
      statusEvent(id, 'awaiting_ingredients', secondsFromNow(1)),
      statusEvent(id, 'cooking', secondsFromNow(2)),
    ];
    await kitchenReports(...events);
    await untilStatusEventsApplied();
    const once = await getOrder(id);

    await kitchenReports(...events, ...events);
    await untilStatusEventsApplied();

    expect(await getOrder(id)).toEqual(once);
    expect(once.status).toBe('cooking');
    expect(once.timeline).toHaveLength(3);
  });

  it('when a status event names an order this service never placed, then it is skipped and the others still apply', async () => {
    const id = await placeOne();

    await kitchenReports(
      statusEvent('6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f', 'cooking', secondsFromNow(2)),
      statusEvent(id, 'cooking', secondsFromNow(2)),
    );
    await untilStatusEventsApplied();

    expect((await getOrder(id)).status).toBe('cooking');
    const dead = await orders.redis.xlen(`${orders.keyPrefix}${streamNames.orderStatusChanged}.dead-letter`);
    expect(dead).toBe(0);
  });

  it('when a replica applies a decision made before the order moved on, then the order is not moved back', async () => {
    const id = await placeOne();
    await kitchenReports(statusEvent(id, 'delivered', secondsFromNow(3)));
    await eventually('the order to be delivered', async () => expect((await getOrder(id)).status).toBe('delivered'));
    const { updatedAt } = await getOrder(id);

    // What a replica that read the order while it was still queued would write: cooking, no recipe.
    await recordProgress(orders.app.pg, { timeline: [], advances: [{ orderId: id, status: 'cooking', recipe: null }] });

    expect(await getOrder(id)).toMatchObject({ status: 'delivered', recipe: 'burger', updatedAt });
  });

  it('when an order further on learns its recipe from an earlier step, then it keeps its status and takes the recipe', async () => {
    const id = await placeOne();
    await recordProgress(orders.app.pg, { timeline: [], advances: [{ orderId: id, status: 'cooking', recipe: null }] });

    await kitchenReports(statusEvent(id, 'awaiting_ingredients', secondsFromNow(1)));

    await eventually('the recipe to be known', async () => expect(await getOrder(id)).toMatchObject({ status: 'cooking', recipe: 'burger' }));
  });

  it('when two replicas apply overlapping batches listed in opposite orders at once, then neither deadlocks', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push(...(await postOrders(orders.app, { quantity: 500 })).json<PlaceOrdersResponse>().orders.map((order) => order.id));
    }
    const deps = { pool: orders.app.pg, log: orders.app.log };

    for (const status of ['awaiting_ingredients', 'cooking', 'delivered'] as const) {
      const events = ids.map((id) => statusEvent(id, status, secondsFromNow(1)));
      await Promise.all([applyStatusChanges(deps, events), applyStatusChanges(deps, [...events].reverse())]);
    }

    const delivered = await orders.app.pg.query<{ count: number }>("SELECT count(*)::int AS count FROM orders WHERE status = 'delivered'");
    expect(delivered.rows[0]!.count).toBe(2_000);
  });
});
