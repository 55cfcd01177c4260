import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { inRolledBackTransaction, rowsReadBy } from '@free-lunch/service-kit/testing';
import { cookAndDeliverAtOnce, loadTickets, openTickets, startCooking } from '../src/data/tickets.js';
import { type KitchenUnderTest, startKitchenUnderTest } from './support/kitchen-app.js';

let kitchen: KitchenUnderTest;
afterEach(async () => {
  await kitchen?.close();
});

const BATCH = 100;
const WAITING = 20_000;

async function open(client: pg.ClientBase, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  await openTickets(client, ids.map((orderId) => ({ orderId, recipe: 'salad' })));
  return ids;
}

describe('batches of tickets looked up by order', () => {
  it('when thousands of tickets await ingredients, then a batch of dispatches reads its own tickets, not every waiting one', async () => {
    kitchen = await startKitchenUnderTest();
    // One transaction, rolled back: the kitchen's own loops never see these tickets.
    await inRolledBackTransaction(kitchen.app.pg, async (client) => {
      // Batches of 70 while the table holds a few hundred rows first, as in the first seconds on a new
      // database: a plan PostgreSQL cached now would scan the table, and go on scanning it as it grows.
      const first = await open(client, 600);
      for (let call = 0; call < 8; call++) {
        const batch = first.slice(call * 70, call * 70 + 70);
        await loadTickets(client, batch);
        await startCooking(client, batch.slice(0, 35), 1_000);
        await cookAndDeliverAtOnce(client, batch.slice(35));
      }

      const waiting = await open(client, WAITING);
      const batch = waiting.slice(WAITING / 2, WAITING / 2 + BATCH);
      const rowsRead = {
        load: await rowsReadBy(client, 'tickets', async () => {
          expect(await loadTickets(client, batch)).toHaveLength(BATCH);
        }),
        startCooking: await rowsReadBy(client, 'tickets', async () => {
          // Undone at once, so the same tickets can be cooked and delivered in one go next.
          await client.query('SAVEPOINT cooking');
          expect(await startCooking(client, batch, 1_000)).toHaveLength(BATCH);
          await client.query('ROLLBACK TO SAVEPOINT cooking');
        }),
        cookAndDeliver: await rowsReadBy(client, 'tickets', async () => {
          expect(await cookAndDeliverAtOnce(client, batch)).toHaveLength(BATCH);
        }),
      };

      // One or two index entries per ticket of the batch; a scan reads thousands.
      expect(Object.entries(rowsRead).filter(([, rows]) => rows > 3 * BATCH)).toEqual([]);
    });
  });
});
