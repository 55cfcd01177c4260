import { setTimeout as sleep } from 'node:timers/promises';
import type pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@free-lunch/service-kit/testing';
import { countPendingRequests } from '../src/data/requests.js';
import type { InventoryMetrics } from '../src/metrics.js';
import { allocateStock } from '../src/use-cases/allocate.js';
import { dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest, stockOf } from './support/inventory-app.js';

let warehouse: InventoryUnderTest | undefined;
afterEach(async () => {
  await warehouse?.close();
  warehouse = undefined;
});

const metrics: InventoryMetrics = { marketCalls: () => {}, unitsBought: () => {}, unitsDispatched: () => {} };

/** A warehouse whose market never sells: what is short stays short for as long as a test runs. */
async function openWarehouse(): Promise<InventoryUnderTest> {
  warehouse = await startInventoryUnderTest({ market: { zeroRate: 1 } });
  return warehouse;
}

/**
 * Holds the stock lock, as a purchase round that is recording does, while `during` runs with the
 * transaction holding it; rolls back afterwards unless `during` ended the transaction itself.
 */
async function whileStockLocked<T>(w: InventoryUnderTest, during: (holder: pg.PoolClient) => Promise<T>): Promise<T> {
  const holder = await w.app.pg.connect();
  try {
    await holder.query('BEGIN');
    await holder.query('SELECT ingredient FROM stock ORDER BY ingredient FOR UPDATE');
    return await during(holder);
  } finally {
    await holder.query('ROLLBACK');
    holder.release();
  }
}

const dispatchedOrders = async (w: InventoryUnderTest) => (await dispatchesOf(w)).map((m) => m.orderId);

/** Waits until `count` requests are queued, whatever the app's own allocator is doing. */
async function untilPending(w: InventoryUnderTest, count: number): Promise<void> {
  await eventually(`the pending requests to number ${count}`, async () => expect(await countPendingRequests(w.app.pg)).toBe(count));
}

/**
 * With the stock lock held: queues `request`, starts an allocation once it is pending and checks that
 * the allocation waits at the lock; the caller settles it. (Wrapped: an async function returning the
 * promise itself would wait for it, and so for the lock its caller holds.)
 */
async function allocationWaitingForTheLock(
  w: InventoryUnderTest,
  request: ReturnType<typeof ingredientsRequest>,
): Promise<{ allocation: ReturnType<typeof allocateStock> }> {
  // The app's own allocator waits at the lock too; this one is started once the request is queued.
  await requestIngredients(w, request);
  await untilPending(w, 1);
  const allocation = allocateStock({ pool: w.app.pg, metrics });
  // Never an unhandled rejection, should a check below fail and the warehouse close under it.
  allocation.catch(() => {});
  expect(await Promise.race([allocation, sleep(500).then(() => 'waiting')])).toBe('waiting');
  return { allocation };
}

describe('an allocation', () => {
  it('when what is on hand is claimed by the request at the head of the queue, then an allocation serves nobody without waiting for the stock lock', async () => {
    const w = await openWarehouse();
    const first = ingredientsRequest('pizza');
    const second = ingredientsRequest('pizza');
    await requestIngredients(w, first, second);
    await eventually('only the first order to be dispatched', async () => expect(await dispatchedOrders(w)).toEqual([first.orderId]));
    // Two tomatoes are left for a pizza that needs three; the rest still makes other dishes, so
    // only the queue tells that nobody can be served.
    expect(await stockOf(w)).toMatchObject({ tomato: 2, cheese: 3, potato: 5, ketchup: 5 });

    let allocation: ReturnType<typeof allocateStock> | undefined;
    try {
      const outcome = await whileStockLocked(w, () => {
        allocation = allocateStock({ pool: w.app.pg, metrics });
        return Promise.race([allocation, sleep(3_000).then(() => 'still waiting for the stock lock after 3 s')]);
      });
      expect(outcome).toEqual({ dispatched: 0, waiting: 1, outbox: [] });
    } finally {
      await allocation?.catch(() => {});
    }
  });

  it('when something new fits, then the allocation waits its turn at the stock lock and serves it', async () => {
    const w = await openWarehouse();
    const pizza = ingredientsRequest('pizza');
    const { allocation } = await whileStockLocked(w, () => allocationWaitingForTheLock(w, pizza));
    // Whichever allocator got the lock first served the pizza; the other found nobody left.
    expect((await allocation).waiting).toBe(0);
    await eventually('the pizza to be dispatched', async () => expect(await dispatchedOrders(w)).toEqual([pizza.orderId]));
  });

  it('when the stock changes while an allocation waits for the lock, then it plans on the stock it locked, not the one it previewed', async () => {
    const w = await openWarehouse();
    const pizza = ingredientsRequest('pizza');
    const { allocation } = await whileStockLocked(w, async (holder) => {
      // The preview sees five tomatoes, enough for the pizza's three, and waits for the lock…
      const waiting = await allocationWaitingForTheLock(w, pizza);
      // …while the holder leaves two (as if another order had taken three) and lets go.
      await holder.query(`UPDATE stock SET on_hand = 2 WHERE ingredient = 'tomato'`);
      await holder.query('COMMIT');
      return waiting;
    });
    expect(await allocation).toEqual({ dispatched: 0, waiting: 1, outbox: [] });
    expect(await stockOf(w)).toMatchObject({ tomato: 2, cheese: 5 });
    expect(await dispatchedOrders(w)).toEqual([]);
  });
});
