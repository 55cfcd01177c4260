import { randomUUID } from 'node:crypto';
import { recipeBook } from '@free-lunch/contracts';
import { rowsReadBy } from '@free-lunch/service-kit/testing';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { findDispatchedRequests, insertRequests, markDispatched } from '../src/data/requests.js';
import { TestWarehouse } from './support/warehouse.js';

let warehouse: TestWarehouse;
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
    warehouse = await TestWarehouse.open();
    const client = await warehouse.app.pg.connect();
    // One transaction, rolled back: the warehouse's own allocations never see these requests.
    await client.query('BEGIN');
    try {
      // Several calls on a nearly empty table first, as after a start on a new database: a plan
      // PostgreSQL cached now would scan the table, and go on scanning it as it grows.
      const few = await queue(client, 10);
      for (let call = 0; call < 8; call++) {
        await client.query('SAVEPOINT warm_up');
        await markDispatched(client, few, new Date());
        await findDispatchedRequests(client, few.map((request) => request.orderId));
        await client.query('ROLLBACK TO SAVEPOINT warm_up');
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
    } finally {
      await client.query('ROLLBACK');
      client.release();
    }
  });
});
