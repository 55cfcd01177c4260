import pg from 'pg';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { eventually } from '@free-lunch/service-kit/testing';
import { countPendingRequests } from '../src/data/requests.js';
import { dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest } from './support/inventory-app.js';

let warehouse: InventoryUnderTest | undefined;
afterEach(async () => {
  await warehouse?.close();
  warehouse = undefined;
  vi.useRealTimers();
});

const PURCHASER_LOCK = `hashtextextended('free-lunch:inventory:purchaser', 0)`;

/** Until the purchaser's session has LISTENed (its last statement, then idle). */
async function untilListening(w: InventoryUnderTest): Promise<void> {
  await eventually('the purchaser to LISTEN', async () => {
    const { rows } = await w.app.pg.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'inventory-purchaser'
            AND state = 'idle' AND query LIKE 'LISTEN%'`,
      );
      expect(rows[0]?.n).toBe(1);
  });
}

const served = async (w: InventoryUnderTest, orderId: string) => (await dispatchesOf(w)).some((m) => m.orderId === orderId);


describe('waking the allocator for new requests (the 2 s sweep frozen)', () => {
  it('when a request the stock can serve is announced, then the purchaser wakes the allocator', async () => {
    // Only setInterval is faked: the Allocator's sweep never fires, so only wake-ups allocate.
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const w = (warehouse = await startInventoryUnderTest({ market: { zeroRate: 1 } }));
    await untilListening(w);

    const pizza = ingredientsRequest('pizza');
    await requestIngredients(w, pizza);
    await eventually('the pizza to be served', async () => expect(await served(w, pizza.orderId)).toBe(true), { timeoutMs: 5_000 });
  });

  it('when requests arrived before any replica listened, then becoming the purchaser wakes the allocator', async () => {
    vi.useFakeTimers({ toFake: ['setInterval', 'clearInterval'] });
    const w = (warehouse = await startInventoryUnderTest({ market: { zeroRate: 1 } }));
    await untilListening(w);
    // Take leadership away: end the purchaser's session; this test's holds the lock while a request arrives.
    const holder = new pg.Client({ connectionString: w.database.url });
    await holder.connect();
    try {
      await w.app.pg.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
          WHERE datname = current_database() AND application_name = 'inventory-purchaser'`,
      );
      await eventually(
        'the purchaser lock to be taken by the test',
        async () => expect((await holder.query(`SELECT pg_try_advisory_lock(${PURCHASER_LOCK}) AS ok`)).rows[0].ok).toBe(true),
        { timeoutMs: 5_000 },
      );
      const pizza = ingredientsRequest('pizza');
      await requestIngredients(w, pizza);
      // Announced to nobody: no replica listens, and the sweep is frozen.
      await eventually('the request to be pending', async () => expect(await countPendingRequests(w.app.pg)).toBe(1), { timeoutMs: 5_000 });

      await holder.query(`SELECT pg_advisory_unlock(${PURCHASER_LOCK})`);
      // The replica retries every 2 s, then LISTENs and wakes its allocator.
      await eventually('the pizza to be served', async () => expect(await served(w, pizza.orderId)).toBe(true), { timeoutMs: 8_000 });
    } finally {
      await holder.end();
    }
  });
});
