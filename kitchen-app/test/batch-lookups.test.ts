import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { LOOKUP_BATCH, rowsReadByBatchLookups } from '@free-lunch/service-kit/testing';
import { cookTickets, loadTickets, openTickets } from '../src/data/tickets.js';
import { startKitchenUnderTest, type KitchenUnderTest } from './support/kitchen-app.js';

let kitchen: KitchenUnderTest;
const salads = (orderIds: readonly string[]) => orderIds.map((orderId) => ({ orderId, recipe: 'salad' as const }));
afterEach(async () => {
  await kitchen?.close();
});

describe('batches of tickets looked up by order', () => {
  it('when thousands of tickets await ingredients, then a batch of dispatches reads its own tickets, not every waiting one', async () => {
    kitchen = await startKitchenUnderTest();
    const rowsRead = await rowsReadByBatchLookups({
      pool: kitchen.app.pg,
      table: 'tickets',
      async insert(client, count) {
        const ids = Array.from({ length: count }, () => randomUUID());
        await openTickets(client, ids.map((orderId) => ({ orderId, recipe: 'salad' })), new Date(), []);
        return ids;
      },
      async warmUp(client, batch) {
        await loadTickets(client, batch);
        await cookTickets(client, salads(batch.slice(0, 35)), { at: new Date(), cookTimeMs: 1_000 }, []);
        await cookTickets(client, salads(batch.slice(35)), { at: new Date(), cookTimeMs: 0 }, []);
      },
      lookups: {
        load: async (client, batch) => expect(await loadTickets(client, batch)).toHaveLength(batch.length),
        startCooking: async (client, batch) => {
          // Undone at once, so the same tickets can be cooked and delivered in one go next.
          await client.query('SAVEPOINT cooking');
          expect((await cookTickets(client, salads(batch), { at: new Date(), cookTimeMs: 1_000 }, [])).moved.size).toBe(batch.length);
          await client.query('ROLLBACK TO SAVEPOINT cooking');
        },
        cookAndDeliver: async (client, batch) =>
          expect((await cookTickets(client, salads(batch), { at: new Date(), cookTimeMs: 0 }, [])).moved.size).toBe(batch.length),
      },
    });

    // One or two index entries per ticket of the batch; a scan reads thousands.
    expect(Object.entries(rowsRead).filter(([, rows]) => rows > 3 * LOOKUP_BATCH)).toEqual([]);
  });
});
