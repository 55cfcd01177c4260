import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { recipeBook } from '@free-lunch/contracts';
import { LOOKUP_BATCH, rowsReadByBatchLookups } from '@free-lunch/service-kit/testing';
import { dispatchRequests, findDispatchedRequests, insertRequests } from '../src/data/requests.js';
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
        dispatch: async (client, batch) =>
          expect((await dispatchRequests(client, { requests: batch, at: new Date(), stockDelta: new Map() })).marked).toBe(batch.length),
        findDispatched: async (client, batch) =>
          expect(await findDispatchedRequests(client, batch.map((request) => request.orderId))).toHaveLength(batch.length),
      },
    });

    // One or two index entries per request of the batch, and for a dispatch also one per ledger row
    // (its foreign key to the stock); a scan reads thousands.
    const mostRead = { dispatch: 2 * (1 + recipeBook.salad.length) * LOOKUP_BATCH, findDispatched: 3 * LOOKUP_BATCH };
    expect(Object.entries(rowsRead).filter(([lookup, rows]) => rows > mostRead[lookup as keyof typeof mostRead])).toEqual([]);
  });
});
