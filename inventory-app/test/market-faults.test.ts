import { afterEach, describe, expect, it } from 'vitest';
import type { PurchasePage, PurchaseRecord } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { auditOf, configureMarket, dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest, stockOf } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
afterEach(async () => {
  await warehouse?.close();
});

async function allPurchases(): Promise<PurchaseRecord[]> {
  return (await warehouse.app.inject({ url: '/purchases?limit=500' })).json<PurchasePage>().items;
}

describe('a misbehaving market', () => {
  it('when the market answers with every kind of fault, then each is recorded with its reason, nothing is added to stock, and the request is served once the market behaves', async () => {
    warehouse = await startInventoryUnderTest({
      market: { failureRate: 1, hangMs: 5_000 },
      env: { MARKET_TIMEOUT_MS: '200' },
    });
    // Four portions of fries need 12 potatoes; the warehouse holds 5.
    const fries = Array.from({ length: 4 }, () => ingredientsRequest('french_fries'));
    await requestIngredients(warehouse, ...fries);

    const reasons = [/HTTP 500/, /no answer within 200 ms/, /not JSON/, /negative/, /fractional/, /absurd/];
    await eventually('a purchase failing for each kind of fault', async () => {
        const errors = (await allPurchases()).map((p) => p.error ?? '');
        for (const reason of reasons) expect(errors.some((error) => reason.test(error))).toBe(true);
      }, { timeoutMs: 20_000, intervalMs: 200 });

    const faults = await allPurchases();
    expect(faults.every((p) => p.outcome === 'fault' && p.quantitySold === 0 && p.ingredient === 'potato')).toBe(true);
    const served = new Set((await dispatchesOf(warehouse)).map((m) => m.orderId));
    expect(served.size).toBe(1); // only what the opening stock covered
    expect((await stockOf(warehouse)).potato).toBe(2);
    const audit = await auditOf(warehouse);
    expect(audit.ok).toBe(true);
    expect(audit.ingredients.find((i) => i.ingredient === 'potato')).toMatchObject({ bought: 0, onHand: 2 });

    await configureMarket(warehouse, { failureRate: 0, zeroRate: 0 });

    await eventually('the fries to be served once the market heals', async () => {
        const dispatched = new Set((await dispatchesOf(warehouse)).map((m) => m.orderId));
        expect(fries.every((f) => dispatched.has(f.orderId))).toBe(true);
      }, { timeoutMs: 15_000 });
    expect((await auditOf(warehouse)).ok).toBe(true);
  });

  it('when the market has nothing today, then every empty answer is in the purchase history and the request waits until it sells', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 1 } });
    const pizzas = [ingredientsRequest('pizza'), ingredientsRequest('pizza')];
    await requestIngredients(warehouse, ...pizzas);

    await eventually('five empty answers in the purchase history', async () => expect((await allPurchases()).length).toBeGreaterThanOrEqual(5));
    const zeros = await allPurchases();
    expect(zeros.every((p) => p.outcome === 'none' && p.quantitySold === 0 && p.error === null)).toBe(true);
    expect(new Set(zeros.map((p) => p.ingredient))).toEqual(new Set(['tomato']));
    await eventually('the first pizza, from stock, to be dispatched', async () =>
      expect((await dispatchesOf(warehouse)).map((m) => m.orderId)).toEqual([pizzas[0]!.orderId]));

    await configureMarket(warehouse, { zeroRate: 0 });
    await eventually('the second pizza to be dispatched once the market sells', async () => expect((await dispatchesOf(warehouse)).map((m) => m.orderId)).toContain(pizzas[1]!.orderId));
    const history = await allPurchases();
    expect(history.some((p) => p.outcome === 'sold' && p.quantitySold > 0)).toBe(true);
    expect((await auditOf(warehouse)).ok).toBe(true);
  });
});
