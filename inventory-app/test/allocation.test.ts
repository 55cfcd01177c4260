import { setTimeout as sleep } from 'node:timers/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { InventoryMetrics } from '../src/metrics.js';
import { allocateStock } from '../src/use-cases/allocate.js';
import { ingredientsRequest, TestWarehouse } from './support/warehouse.js';

let warehouse: TestWarehouse;
afterEach(async () => {
  await warehouse?.close();
});

const metrics: InventoryMetrics = { marketCalls: () => {}, unitsBought: () => {}, unitsDispatched: () => {} };

describe('an allocation', () => {
  it('when what is on hand is claimed by the request at the head of the queue, then an allocation serves nobody without waiting for the stock lock', async () => {
    // The market never sells: the second pizza waits for tomatoes for as long as the test runs.
    warehouse = await TestWarehouse.open({ market: { zeroRate: 1 } });
    const first = ingredientsRequest('pizza');
    const second = ingredientsRequest('pizza');
    await warehouse.request(first, second);
    await vi.waitFor(async () => expect((await warehouse.dispatched()).map((m) => m.orderId)).toEqual([first.orderId]), {
      timeout: 10_000,
    });
    // Two tomatoes are left for a pizza that needs three; the rest still makes other dishes, so
    // only the queue tells that nobody can be served.
    expect(await warehouse.stock()).toMatchObject({ tomato: 2, cheese: 3, potato: 5, ketchup: 5 });

    // A purchase round recording holds the stock lock (here: a transaction that took it and waits).
    const recording = await warehouse.app.pg.connect();
    try {
      await recording.query('BEGIN');
      await recording.query('SELECT ingredient FROM stock ORDER BY ingredient FOR UPDATE');
      const outcome = await Promise.race([
        allocateStock({ pool: warehouse.app.pg, metrics }),
        sleep(3_000).then(() => 'still waiting for the stock lock after 3 s'),
      ]);
      expect(outcome).toEqual({ dispatched: 0, waiting: 1 });
    } finally {
      await recording.query('ROLLBACK');
      recording.release();
    }
  });

  it('when something new fits, then the allocation waits its turn at the stock lock and serves it', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 1 } });
    const pizza = ingredientsRequest('pizza');
    const recording = await warehouse.app.pg.connect();
    let allocation: ReturnType<typeof allocateStock> | undefined;
    try {
      await recording.query('BEGIN');
      await recording.query('SELECT ingredient FROM stock ORDER BY ingredient FOR UPDATE');
      // The app's own allocator waits at the lock too; this one is started once the request is queued.
      await warehouse.request(pizza);
      await vi.waitFor(
        async () => {
          const { rows } = await warehouse.app.pg.query(`SELECT count(*)::int AS n FROM requests WHERE status = 'pending'`);
          expect(rows[0].n).toBe(1);
        },
        { timeout: 10_000 },
      );
      allocation = allocateStock({ pool: warehouse.app.pg, metrics });
      const early = await Promise.race([allocation, sleep(500).then(() => 'waiting')]);
      expect(early).toBe('waiting');
    } finally {
      await recording.query('ROLLBACK');
      recording.release();
    }
    // Whichever allocator got the lock first served the pizza; the other found nobody left.
    const result = await allocation!;
    expect(result.waiting).toBe(0);
    await vi.waitFor(async () => expect((await warehouse.dispatched()).map((m) => m.orderId)).toEqual([pizza.orderId]), {
      timeout: 10_000,
    });
  });
});
