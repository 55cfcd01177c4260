import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@free-lunch/service-kit/testing';
import { loadShortfall } from '../src/data/requests.js';
import { EMPTY_ANSWERS_PER_ROUND } from '../src/domain/purchase-plan.js';
import { MarketClient } from '../src/market/market-client.js';
import { MarketJournal } from '../src/purchasing/market-journal.js';
import { buyShortfalls, type PurchaseRound } from '../src/purchasing/market-round.js';
import { auditOf, configureMarket, dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
afterEach(async () => {
  await warehouse?.close();
});

const shortfall = async () => Object.fromEntries(await loadShortfall(warehouse.app.pg));

describe('the shortfall the purchaser buys for', () => {
  it('when requests wait for a market that has nothing, then the shortfall is exactly what they lack, a duplicate counted once, and it is gone once they are served', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 1 } });
    const [first, second, third] = [ingredientsRequest('pizza'), ingredientsRequest('pizza'), ingredientsRequest('pizza')];
    const salad = ingredientsRequest('salad');
    await requestIngredients(warehouse, first, second);
    await requestIngredients(warehouse, second, third, salad);

    // Opening stock is 5 of each: the first pizza leaves with 2 cheese and 3 tomatoes. Still
    // waiting: two pizzas (4 cheese, 6 tomatoes) and a salad (2 tomatoes, lemon, onion, 2 lettuce),
    // against 3 cheese and 2 tomatoes on hand.
    await eventually('only the first pizza to be dispatched', async () => expect((await dispatchesOf(warehouse)).map((dispatch) => dispatch.orderId)).toEqual([first.orderId]));
    await eventually('the shortfall to be cheese 1, tomato 6', async () => expect(await shortfall()).toEqual({ cheese: 1, tomato: 6 }));

    await configureMarket(warehouse, { zeroRate: 0 });
    await eventually('all four requests to be dispatched', async () => expect(await dispatchesOf(warehouse)).toHaveLength(4));
    expect(await shortfall()).toEqual({});
    const { rows } = await warehouse.app.pg.query<{ units: number }>('SELECT sum(units)::int AS units FROM pending_needs');
    expect(rows[0]!.units).toBe(0);
    expect((await auditOf(warehouse)).ok).toBe(true);
  });
});

describe('a purchase round planned while the last one is still being recorded', () => {
  it('when units bought are not in the books yet, then the round does not buy them again', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 1 } });
    const [first, second, third] = [ingredientsRequest('pizza'), ingredientsRequest('pizza'), ingredientsRequest('pizza')];
    await requestIngredients(warehouse, first, second, third);
    // 5 cheese and 5 tomatoes on hand serve the first pizza; the other two need 4 cheese and 6
    // tomatoes against the 3 and 2 left.
    await eventually('the shortfall to be cheese 1, tomato 4', async () => expect(await shortfall()).toEqual({ cheese: 1, tomato: 4 }));
    const market = new MarketClient({ url: warehouse.market.url, concurrency: 4, timeoutMs: 2_000, maxQuantity: 1_000 });
    const journal = new MarketJournal(warehouse.app.pg, warehouse.app.log);
    const deps = { pool: warehouse.app.pg, market, concurrency: 4, backoff: { baseMs: 10, maxMs: 100 }, journal };
    const callsPer = (round: PurchaseRound) =>
      round.attempts.reduce<Record<string, number>>((calls, { ingredient }) => ({ ...calls, [ingredient]: (calls[ingredient] ?? 0) + 1 }), {});

    try {
      const covered = await buyShortfalls(deps, new Map(), new Map([['cheese', 1], ['tomato', 4]]));
      expect(covered.attempts).toEqual([]);
      expect(covered.covered).toBe(true);

      const partly = await buyShortfalls(deps, new Map(), new Map([['cheese', 1], ['tomato', 1]]));
      // A sale is at least one unit, so the round starts with as many calls as units still short
      // (3 tomatoes), and every empty answer may add one more, up to EMPTY_ANSWERS_PER_ROUND in a row.
      const calls = callsPer(partly);
      expect(Object.keys(calls)).toEqual(['tomato']);
      expect(calls.tomato).toBeGreaterThanOrEqual(3);
      expect(calls.tomato).toBeLessThanOrEqual(3 + EMPTY_ANSWERS_PER_ROUND);
      // A market that sold nothing left the tomatoes short: the purchaser must look again.
      expect(partly.covered).toBe(false);
    } finally {
      await market.close();
    }
  });
});
