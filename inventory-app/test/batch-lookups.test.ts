import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { recipeBook } from '@free-lunch/contracts';
import { LOOKUP_BATCH, rowsReadByBatchLookups } from '@free-lunch/service-kit/testing';
import { findDispatchedRequests, insertRequests, markDispatched } from '../src/data/requests.js';
import { startInventoryUnderTest, type InventoryUnderTest } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
afterEach(async () => {
  await warehouse?.close();
});

describe('batches of requests looked up by order', () => {
  it('when thousands of requests wait, then dispatching a batch reads its own requests, not the whole queue', async () => {
    warehouse = await startInventoryUnderTest();
    const rowsRead = await rowsReadByBatchLookups({
      pool: warehouse.app.pg,
      table: 'requests',
      async insert(client, count) {
        const requests = Array.from({ length: count }, () => ({
          orderId: randomUUID(),
          recipe: 'salad' as const,
          needs: [...recipeBook.salad],
          requestedAt: new Date(),
        }));
        await insertRequests(client, requests);
        return requests;
      },
      lookups: {
        markDispatched: async (client, batch) => expect(await markDispatched(client, batch, new Date())).toBe(batch.length),
        findDispatched: async (client, batch) =>
          expect(await findDispatchedRequests(client, batch.map((request) => request.orderId))).toHaveLength(batch.length),
      },
    });

    // One or two index entries per request of the batch; a scan reads thousands.
    expect(Object.entries(rowsRead).filter(([, rows]) => rows > 3 * LOOKUP_BATCH)).toEqual([]);
  });
});
