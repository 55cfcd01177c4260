import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Order, OrderCounts, OrderPage, OrderSummaryItem, PlaceOrdersResponse } from '@free-lunch/contracts';
import { applyStatusChanges } from '../src/use-cases/apply-status-changes.js';
import { postOrders, startOrdersUnderTest, statusEvent, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
beforeEach(async () => {
  orders = await startOrdersUnderTest();
});
afterEach(async () => {
  await orders.close();
});

async function place(quantity: number): Promise<OrderSummaryItem[]> {
  return (await postOrders(orders.app, { quantity })).json<PlaceOrdersResponse>().orders;
}

/** Moves orders on as the kitchen's events would (the consumer calls exactly this). */
async function report(orderIds: string[], status: 'awaiting_ingredients' | 'cooking' | 'delivered') {
  const at = new Date().toISOString();
  await applyStatusChanges({ pool: orders.app.pg, log: orders.app.log }, orderIds.map((id) => statusEvent(id, status, at)));
}

async function walkPages(query: string, limit: number): Promise<OrderSummaryItem[][]> {
  const pages: OrderSummaryItem[][] = [];
  let cursor: string | null = null;
  do {
    const url: string = `/orders?limit=${limit}${query}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const response = await orders.app.inject({ method: 'GET', url });
    expect(response.statusCode).toBe(200);
    const page = response.json<OrderPage>();
    pages.push(page.items);
    cursor = page.nextCursor;
  } while (cursor !== null);
  return pages;
}

describe('GET /orders', () => {
  it('when the manager pages through the history, then every order shows up exactly once, newest first', async () => {
    const first = await place(7);
    const second = await place(5);
    const third = await place(8);

    const pages = await walkPages('', 6);
    const seen = pages.flat();

    expect(pages.map((page) => page.length)).toEqual([6, 6, 6, 2]);
    expect(seen.map((order) => order.id).sort()).toEqual([...first, ...second, ...third].map((order) => order.id).sort());
    // Newest batch first: the third request's orders lead, the first request's close the history.
    expect(new Set(seen.slice(0, 8).map((order) => order.id))).toEqual(new Set(third.map((order) => order.id)));
    expect(new Set(seen.slice(-7).map((order) => order.id))).toEqual(new Set(first.map((order) => order.id)));
    const times = seen.map((order) => Date.parse(order.createdAt));
    expect(times).toEqual([...times].sort((a, b) => b - a));
  });

  it('when the manager filters by status, then only orders in that status are listed, across pages', async () => {
    const placed = await place(9);
    const cooking = placed.slice(0, 4).map((order) => order.id);
    await report(cooking, 'cooking');

    const listed = (await walkPages('&status=cooking', 3)).flat();

    expect(listed.map((order) => order.id).sort()).toEqual([...cooking].sort());
    expect(listed.every((order) => order.status === 'cooking' && order.recipe === 'burger')).toBe(true);
    const queued = (await walkPages('&status=queued', 50)).flat();
    expect(queued).toHaveLength(5);
  });

  it('when there are no orders, then the page is empty and has no next cursor', async () => {
    const response = await orders.app.inject({ method: 'GET', url: '/orders' });
    expect(response.json()).toEqual({ items: [], nextCursor: null });
  });

  it.each([
    ['a cursor this API never handed out', '?cursor=bm90LWEtY3Vyc29y', 'invalid_cursor', /cursor/],
    ['an unknown status', '?status=burnt', 'validation_failed', /status/],
    ['a limit of zero', '?limit=0', 'validation_failed', /limit/],
    ['a limit that is not a number', '?limit=lots', 'validation_failed', /limit/],
  ])('when the query has %s, then 400 says what is wrong', async (_label, query, error, message) => {
    const response = await orders.app.inject({ method: 'GET', url: `/orders${query}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error, message: expect.stringMatching(message) });
  });
});

describe('GET /orders/summary', () => {
  it('when orders are in several statuses, then the summary counts each status and the total', async () => {
    const placed = (await place(10)).map((order) => order.id);
    await report(placed.slice(0, 6), 'awaiting_ingredients');
    await report(placed.slice(0, 3), 'cooking');
    await report(placed.slice(0, 1), 'delivered');

    const response = await orders.app.inject({ method: 'GET', url: '/orders/summary' });

    expect(response.json<OrderCounts>()).toEqual({
      queued: 4,
      awaiting_ingredients: 3,
      cooking: 2,
      delivered: 1,
      total: 10,
    });
  });

  it('when nothing was ordered yet, then every count is zero', async () => {
    const response = await orders.app.inject({ method: 'GET', url: '/orders/summary' });
    expect(response.json()).toEqual({ queued: 0, awaiting_ingredients: 0, cooking: 0, delivered: 0, total: 0 });
  });
});

describe('GET /orders/{id}', () => {
  it('when the order exists, then it comes with its status, recipe and timeline oldest first', async () => {
    const [order] = await place(1);
    await report([order!.id], 'awaiting_ingredients');
    await report([order!.id], 'cooking');

    const response = await orders.app.inject({ method: 'GET', url: `/orders/${order!.id}` });

    expect(response.statusCode).toBe(200);
    const found = response.json<Order>();
    expect(found).toMatchObject({ id: order!.id, status: 'cooking', recipe: 'burger', createdAt: order!.createdAt });
    expect(found.timeline.map((line) => line.status)).toEqual(['queued', 'awaiting_ingredients', 'cooking']);
  });

  it('when no order has that id, then 404 order_not_found', async () => {
    const response = await orders.app.inject({ method: 'GET', url: '/orders/6f1c2a4e-8a5b-4c1d-9e2f-0a1b2c3d4e5f' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: 'order_not_found' });
  });

  it('when the id is not a UUID, then 400 says so', async () => {
    const response = await orders.app.inject({ method: 'GET', url: '/orders/42' });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'validation_failed', message: expect.stringMatching(/id must be a UUID/) });
  });
});

describe('the rest of the surface', () => {
  it('when a route does not exist, then 404 not_found as JSON', async () => {
    const response = await orders.app.inject({ method: 'GET', url: '/menu' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toEqual({ error: 'not_found', message: expect.stringContaining('/menu') });
  });

  it('when the OpenAPI document is read, then it describes the orders and live view routes', async () => {
    const response = await orders.app.inject({ method: 'GET', url: '/documentation/json' });
    const paths = Object.keys(response.json<{ paths: Record<string, unknown> }>().paths);
    expect(paths).toEqual(expect.arrayContaining(['/orders', '/orders/{id}', '/orders/summary', '/ws-ticket', '/ws']));
  });

  it('when /ws is requested without a WebSocket upgrade, then 426 says to use a WebSocket', async () => {
    const response = await orders.app.inject({ method: 'GET', url: '/ws' });
    expect(response.statusCode).toBe(426);
    expect(response.json()).toMatchObject({ error: 'upgrade_required' });
  });

  it('when PostgreSQL and Redis answer, then the service is ready', async () => {
    const response = await orders.app.inject({ method: 'GET', url: '/ready' });
    expect(response.json()).toEqual({ status: 'ready', checks: { postgres: true, redis: true } });
  });
});
