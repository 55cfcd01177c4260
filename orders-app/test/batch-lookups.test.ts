import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { inRolledBackTransaction, rowsReadBy } from '@free-lunch/service-kit/testing';
import { advanceOrders, insertQueuedOrders, loadOrderProgress } from '../src/data/orders.js';
import { startOrdersUnderTest, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
afterEach(async () => {
  await orders?.close();
});

const BATCH = 100;
const PLACED = 20_000;

async function place(client: pg.ClientBase, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await insertQueuedOrders(client, ids);
  return ids;
}

const awaitingIngredients = (ids: readonly string[]) =>
  ids.map((orderId) => ({ orderId, status: 'awaiting_ingredients' as const, recipe: 'salad' as const }));

describe('batches of orders looked up by id', () => {
  it('when thousands of orders are in progress, then a batch of status changes reads its own orders, not the whole table', async () => {
    orders = await startOrdersUnderTest();
    // One transaction, rolled back: nothing else in the app sees these orders.
    await inRolledBackTransaction(orders.app.pg, async (client) => {
      // Batches of 70 while the table holds a few hundred rows first, as in the first seconds on a new
      // database: a plan PostgreSQL cached now would scan the table, and go on scanning it as it grows.
      const first = await place(client, 600);
      for (let call = 0; call < 8; call++) {
        const batch = first.slice(call * 70, call * 70 + 70);
        await loadOrderProgress(client, batch);
        await advanceOrders(client, awaitingIngredients(batch));
      }

      const placed = await place(client, PLACED);
      const batch = placed.slice(PLACED / 2, PLACED / 2 + BATCH);
      const rowsRead = {
        loadProgress: await rowsReadBy(client, 'orders', async () => {
          expect((await loadOrderProgress(client, batch)).size).toBe(BATCH);
        }),
        advance: await rowsReadBy(client, 'orders', () => advanceOrders(client, awaitingIngredients(batch))),
      };

      expect((await loadOrderProgress(client, batch)).get(batch[0]!)).toMatchObject({ status: 'awaiting_ingredients' });
      // One or two index entries per order of the batch; a scan reads thousands.
      expect(Object.entries(rowsRead).filter(([, rows]) => rows > 3 * BATCH)).toEqual([]);
    });
  });
});
