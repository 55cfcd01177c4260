import { afterEach, describe, expect, it } from 'vitest';
import type { PlaceOrdersResponse } from '@free-lunch/contracts';
import { forgetExpiredIdempotencyKeys } from '../src/use-cases/forget-idempotency-keys.js';
import { countRows, postOrders, startOrdersUnderTest, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
afterEach(async () => {
  await orders.close();
});

describe('idempotency keys expire', () => {
  it('when a key is older than IDEMPOTENCY_KEY_TTL_MS, then it is forgotten and the same key places new orders, while a young key still returns its first answer', async () => {
    orders = await startOrdersUnderTest();
    const old = (await postOrders(orders.app, { quantity: 2 }, { 'idempotency-key': 'yesterday' })).json<PlaceOrdersResponse>();
    const young = (await postOrders(orders.app, { quantity: 1 }, { 'idempotency-key': 'just-now' })).json<PlaceOrdersResponse>();
    await orders.app.pg.query(`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = 'yesterday'`);

    const forgotten = await forgetExpiredIdempotencyKeys(orders.app.pg, { keepForMs: 24 * 3_600_000 });

    expect(forgotten).toBe(1);
    expect(await countRows(orders.app, 'idempotency_keys')).toBe(1);
    const retriedYoung = (await postOrders(orders.app, { quantity: 1 }, { 'idempotency-key': 'just-now' })).json<PlaceOrdersResponse>();
    expect(retriedYoung).toEqual(young);
    const reusedOld = await postOrders(orders.app, { quantity: 2 }, { 'idempotency-key': 'yesterday' });
    expect(reusedOld.statusCode).toBe(202);
    const fresh = reusedOld.json<PlaceOrdersResponse>().orders.map((order) => order.id);
    expect(fresh).toHaveLength(2);
    expect(fresh).not.toEqual(old.orders.map((order) => order.id));
    expect(await countRows(orders.app, 'orders')).toBe(5);
  });
});
