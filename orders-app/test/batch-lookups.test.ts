import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LOOKUP_BATCH, rowsReadByBatchLookups } from '@free-lunch/service-kit/testing';
import { loadOrderProgress, placeQueuedOrders, recordProgress } from '../src/data/orders.js';
import { startOrdersUnderTest, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
afterEach(async () => {
  await orders?.close();
});

const awaitingIngredients = (ids: readonly string[]) =>
  ids.map((orderId) => ({ orderId, status: 'awaiting_ingredients' as const, recipe: 'salad' as const }));

describe('batches of orders looked up by id', () => {
  it('when thousands of orders are in progress, then a batch of status changes reads its own orders, not the whole table', async () => {
    orders = await startOrdersUnderTest();
    const rowsRead = await rowsReadByBatchLookups({
      pool: orders.app.pg,
      table: 'orders',
      async insert(client, count) {
        const ids = Array.from({ length: count }, () => randomUUID());
        await placeQueuedOrders(client, { ids, at: new Date() }, []);
        return ids;
      },
      lookups: {
        loadProgress: async (client, batch) => expect((await loadOrderProgress(client, batch)).size).toBe(batch.length),
        advance: (client, batch) => recordProgress(client, { timeline: [], advances: awaitingIngredients(batch) }),
      },
      afterwards: async (client, batch) =>
        expect((await loadOrderProgress(client, batch)).get(batch[0]!)).toMatchObject({ status: 'awaiting_ingredients' }),
    });

    // One or two index entries per order of the batch; a scan reads thousands.
    expect(Object.entries(rowsRead).filter(([, rows]) => rows > 3 * LOOKUP_BATCH)).toEqual([]);
  });
});
