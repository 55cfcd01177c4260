import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { postOrders, startOrdersUnderTest, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
beforeEach(async () => {
  orders = await startOrdersUnderTest({ env: { READ_STATEMENT_TIMEOUT_MS: '300' } });
});
afterEach(async () => {
  await orders.close();
});

describe('public reads of orders', () => {
  it('when the order counts cannot be read within the read timeout, then GET /orders/summary answers 503 and recovers after', async () => {
    expect((await postOrders(orders.app, { quantity: 3 })).statusCode).toBe(202);
    // Another session holds the table, as a long migration or a runaway query would.
    const blocker = new pg.Client({ connectionString: orders.database.url });
    await blocker.connect();
    try {
      await blocker.query('BEGIN');
      await blocker.query('LOCK TABLE orders.orders IN ACCESS EXCLUSIVE MODE');

      const started = performance.now();
      const [summary, page] = await Promise.all([
        orders.app.inject({ method: 'GET', url: '/orders/summary' }),
        orders.app.inject({ method: 'GET', url: '/orders?limit=5' }),
      ]);

      expect(performance.now() - started).toBeLessThan(3_000);
      for (const answer of [summary, page]) {
        expect(answer.statusCode).toBe(503);
        expect(answer.json()).toEqual({ error: 'read_timed_out', message: expect.any(String) });
      }
    } finally {
      await blocker.query('ROLLBACK');
      await blocker.end();
    }

    const summary = await orders.app.inject({ method: 'GET', url: '/orders/summary' });
    expect(summary.statusCode).toBe(200);
    expect(summary.json()).toMatchObject({ queued: 3, total: 3 });
  });
});
