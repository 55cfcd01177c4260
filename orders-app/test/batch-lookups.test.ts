import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LOOKUP_BATCH, rowsReadByBatchLookups } from '@free-lunch/service-kit/testing';
import { placeQueuedOrders, recordProgress } from '../src/data/orders.js';
import { startOrdersUnderTest, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
afterEach(async () => {
  await orders?.close();
});

const awaitingIngredients = (ids: readonly string[]) => ({
  timeline: ids.map((orderId) => ({ orderId, status: 'awaiting_ingredients' as const, at: new Date().toISOString() })),
  advances: ids.map((orderId) => ({ orderId, status: 'awaiting_ingredients' as const, recipe: 'salad' as const })),
});

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
        advance: async (client, batch) => expect(await recordProgress(client, awaitingIngredients(batch))).toEqual({ unknownOrderIds: [] }),
      },
      afterwards: async (client, batch) => {
        const { rows } = await client.query('SELECT DISTINCT status FROM orders WHERE id = ANY($1::uuid[])', [batch]);
        expect(rows).toEqual([{ status: 'awaiting_ingredients' }]);
      },
    });

    // One or two index entries per order of the batch; a scan reads thousands.
    expect(Object.entries(rowsRead).filter(([, rows]) => rows > 3 * LOOKUP_BATCH)).toEqual([]);
  });
});
