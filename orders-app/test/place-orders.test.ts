import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { PlaceOrdersResponse } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import {
  countRows,
  MANAGER_TOKEN,
  managerHeaders,
  placedOrderIds,
  postOrders,
  startOrdersUnderTest,
  type OrdersUnderTest,
} from './support/orders-app.js';

let orders: OrdersUnderTest;
beforeEach(async () => {
  orders = await startOrdersUnderTest();
});
afterEach(async () => {
  await orders.close();
});

describe('POST /orders', () => {
  it('when the manager asks for 50 lunches, then 50 queued orders are stored before the answer and announced to the kitchen', async () => {
    const response = await postOrders(orders.app, { quantity: 50 });

    expect(response.statusCode).toBe(202);
    const placed = response.json<PlaceOrdersResponse>().orders;
    expect(placed).toHaveLength(50);
    expect(new Set(placed.map((order) => order.id)).size).toBe(50);
    expect(placed.every((order) => order.status === 'queued' && order.recipe === null)).toBe(true);

    // Stored before the answer: nothing is awaited between the response and this read.
    const stored = await orders.app.pg.query<{ id: string; status: string }>('SELECT id, status FROM orders');
    expect(stored.rows.map((row) => row.id).sort()).toEqual(placed.map((order) => order.id).sort());
    expect(stored.rows.every((row) => row.status === 'queued')).toBe(true);

    const one = await orders.app.inject({ method: 'GET', url: `/orders/${placed[0]!.id}` });
    expect(one.json()).toMatchObject({ id: placed[0]!.id, status: 'queued', timeline: [{ status: 'queued' }] });

    await eventually('every order announced', async () => {
      expect((await placedOrderIds(orders.redis, orders.keyPrefix)).sort()).toEqual(placed.map((order) => order.id).sort());
    });
    // Published rows leave the outbox in the relay's transaction.
    await eventually('the outbox to be empty', async () => expect(await countRows(orders.app, 'outbox')).toBe(0));
  });

  it('when the body is an empty object, then one order is placed', async () => {
    const response = await postOrders(orders.app, {});
    expect(response.statusCode).toBe(202);
    expect(response.json<PlaceOrdersResponse>().orders).toHaveLength(1);
  });

  it('when the manager asks for the configured maximum, then every order is placed in one go', async () => {
    const response = await postOrders(orders.app, { quantity: 1000 });
    expect(response.statusCode).toBe(202);
    expect(response.json<PlaceOrdersResponse>().orders).toHaveLength(1000);
    expect(await countRows(orders.app, 'orders')).toBe(1000);
    expect(await countRows(orders.app, 'order_timeline')).toBe(1000);
  });

  describe('with an Idempotency-Key', () => {
    it('when the request is retried, then the first answer comes back and no more orders are placed', async () => {
      const first = await postOrders(orders.app, { quantity: 3 }, { 'idempotency-key': 'lunch-rush-1' });
      const retry = await postOrders(orders.app, { quantity: 3 }, { 'idempotency-key': 'lunch-rush-1' });

      expect(first.statusCode).toBe(202);
      expect(retry.statusCode).toBe(202);
      expect(retry.json()).toEqual(first.json());
      expect(await countRows(orders.app, 'orders')).toBe(3);
    });

    it('when two requests with the same key arrive at once, then both get the same answer and the orders are placed once', async () => {
      const [one, other] = await Promise.all([
        postOrders(orders.app, { quantity: 5 }, { 'idempotency-key': 'double-click' }),
        postOrders(orders.app, { quantity: 5 }, { 'idempotency-key': 'double-click' }),
      ]);

      expect([one.statusCode, other.statusCode]).toEqual([202, 202]);
      expect(other.json()).toEqual(one.json());
      expect(await countRows(orders.app, 'orders')).toBe(5);
      await eventually('five orders announced', async () => expect(await placedOrderIds(orders.redis, orders.keyPrefix)).toHaveLength(5));
    });

    it('when a key is reused for a different quantity, then it is refused and nothing new is placed', async () => {
      await postOrders(orders.app, { quantity: 2 }, { 'idempotency-key': 'reused' });
      const reused = await postOrders(orders.app, { quantity: 7 }, { 'idempotency-key': 'reused' });

      expect(reused.statusCode).toBe(422);
      expect(reused.json()).toMatchObject({ error: 'idempotency_key_reused' });
      expect(await countRows(orders.app, 'orders')).toBe(2);
    });

    it('when different keys are used, then each places its own orders', async () => {
      await postOrders(orders.app, { quantity: 2 }, { 'idempotency-key': 'first' });
      await postOrders(orders.app, { quantity: 2 }, { 'idempotency-key': 'second' });
      expect(await countRows(orders.app, 'orders')).toBe(4);
    });
  });

  describe('without the manager token', () => {
    it.each([
      ['no Authorization header', {}],
      ['a wrong token', { authorization: 'Bearer not-the-token' }],
      ['the token without Bearer', { authorization: MANAGER_TOKEN }],
      ['basic credentials', { authorization: 'Basic bWFuYWdlcjpzZWNyZXQ=' }],
    ])('when the request has %s, then it is refused with 401 and nothing is placed', async (_label, headers) => {
      const response = await orders.app.inject({ method: 'POST', url: '/orders', headers, payload: { quantity: 5 } });

      expect(response.statusCode).toBe(401);
      expect(response.headers['www-authenticate']).toBe('Bearer');
      expect(response.json()).toEqual({ error: 'unauthorized', message: expect.stringContaining('manager token') });
      expect(await countRows(orders.app, 'orders')).toBe(0);
      expect(await countRows(orders.app, 'outbox')).toBe(0);
      expect(await placedOrderIds(orders.redis, orders.keyPrefix)).toEqual([]);
    });
  });

  describe('with a body the API cannot take', () => {
    it.each([
      ['a quantity of 0', { quantity: 0 }, 'validation_failed', /quantity.*at least 1/],
      ['a negative quantity', { quantity: -1 }, 'validation_failed', /quantity.*at least 1/],
      ['a fractional quantity', { quantity: 1.5 }, 'validation_failed', /quantity.*whole number/],
      ['a quantity above the maximum', { quantity: 1001 }, 'validation_failed', /quantity.*at most 1000/],
      ['a quantity that is text', { quantity: 'abc' }, 'validation_failed', /quantity.*must be a number/],
      ['a field the API does not know', { quantity: 1, extra: true }, 'validation_failed', /extra/],
      ['a JSON array', [1], 'validation_failed', /body/],
    ])('when the body has %s, then 400 says what is wrong and nothing is placed', async (_label, body, error, message) => {
      const response = await postOrders(orders.app, body);

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error, message: expect.stringMatching(message) });
      expect(await countRows(orders.app, 'orders')).toBe(0);
    });

    it('when there is no body at all, then 400 says a body is required and nothing is placed', async () => {
      const response = await orders.app.inject({ method: 'POST', url: '/orders', headers: managerHeaders });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: 'validation_failed', message: expect.stringMatching(/body/) });
      expect(await countRows(orders.app, 'orders')).toBe(0);
    });

    it('when the body is malformed JSON, then 400 says so and nothing is placed', async () => {
      const response = await orders.app.inject({
        method: 'POST',
        url: '/orders',
        headers: { ...managerHeaders, 'content-type': 'application/json' },
        payload: '{"quantity": 5',
      });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: 'invalid_json' });
      expect(await countRows(orders.app, 'orders')).toBe(0);
    });

    it('when the Idempotency-Key is absurdly long, then 400 says so and nothing is placed', async () => {
      const response = await postOrders(orders.app, { quantity: 1 }, { 'idempotency-key': 'k'.repeat(500) });

      expect(response.statusCode).toBe(400);
      expect(response.json()).toMatchObject({ error: 'validation_failed', message: expect.stringMatching(/idempotency-key/) });
      expect(await countRows(orders.app, 'orders')).toBe(0);
    });
  });
});
