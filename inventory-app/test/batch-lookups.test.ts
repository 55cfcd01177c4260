import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { recipeBook } from '@free-lunch/contracts';
import { inRolledBackTransaction, rowsReadBy } from '@free-lunch/service-kit/testing';
import { findDispatchedRequests, insertRequests, markDispatched } from '../src/data/requests.js';
import { type InventoryUnderTest, startInventoryUnderTest } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
afterEach(async () => {
  await warehouse?.close();
});

const BATCH = 100;
const WAITING = 20_000;

async function queue(client: pg.ClientBase, count: number) {
  const requests = Array.from({ length: count }, () => ({
    orderId: randomUUID(),
    recipe: 'salad' as const,
    needs: [...recipeBook.salad],
    requestedAt: new Date(),
  }));
  await insertRequests(client, requests);
  return requests;
}

describe('batches of requests looked up by order', () => {
  it('when thousands of requests wait, then dispatching a batch reads its own requests, not the whole queue', async () => {
    warehouse = await startInventoryUnderTest();
    // One transaction, rolled back: the warehouse's own allocations never see these requests.
    await inRolledBackTransaction(warehouse.app.pg, async (client) => {
      // Batches of 70 while the table holds a few hundred rows first, as in the first seconds on a new
      // database: a plan PostgreSQL cached now would scan the table, and go on scanning it as it grows.
      const first = await queue(client, 600);
      for (let call = 0; call < 8; call++) {
        const batch = first.slice(call * 70, call * 70 + 70);
        await markDispatched(client, batch, new Date());
        await findDispatchedRequests(client, batch.map((request) => request.orderId));
      }

      const waiting = await queue(client, WAITING);
      const batch = waiting.slice(WAITING / 2, WAITING / 2 + BATCH);
      const rowsRead = {
        markDispatched: await rowsReadBy(client, 'requests', async () => {
          expect(await markDispatched(client, batch, new Date())).toBe(BATCH);
        }),
        findDispatched: await rowsReadBy(client, 'requests', async () => {
          expect(await findDispatchedRequests(client, batch.map((request) => request.orderId))).toHaveLength(BATCH);
        }),
      };

      // One or two index entries per request of the batch; a scan reads thousands.
      expect(Object.entries(rowsRead).filter(([, rows]) => rows > 3 * BATCH)).toEqual([]);
    });
  });
});
