import { afterEach, describe, expect, it, vi } from 'vitest';
import type { PurchasePage, PurchaseRecord } from '@free-lunch/contracts';
import { ingredientsRequest, TestWarehouse } from './support/warehouse.js';

let warehouse: TestWarehouse;
afterEach(async () => {
  await warehouse?.close();
});

async function allPurchases(): Promise<PurchaseRecord[]> {
  return (await warehouse.app.inject({ url: '/purchases?limit=500' })).json<PurchasePage>().items;
}

describe('a misbehaving market', () => {
  it('when the market answers with every kind of fault, then each is recorded with its reason, nothing is added to stock, and the request is served once the market behaves', async () => {
    warehouse = await TestWarehouse.open({
      market: { failureRate: 1, hangMs: 5_000 },
      env: { MARKET_TIMEOUT_MS: '200' },
    });
    // Four portions of fries need 12 potatoes; the warehouse holds 5.
    const fries = Array.from({ length: 4 }, () => ingredientsRequest('french_fries'));
    await warehouse.request(...fries);

    const reasons = [/HTTP 500/, /no answer within 200 ms/, /not JSON/, /negative/, /fractional/, /absurd/];
    await vi.waitFor(
      async () => {
        const errors = (await allPurchases()).map((p) => p.error ?? '');
        for (const reason of reasons) expect(errors.some((error) => reason.test(error))).toBe(true);
      },
      { timeout: 20_000, interval: 200 },
    );

    const faults = await allPurchases();
    expect(faults.every((p) => p.outcome === 'fault' && p.quantitySold === 0 && p.ingredient === 'potato')).toBe(true);
    const served = new Set((await warehouse.dispatched()).map((m) => m.orderId));
    expect(served.size).toBe(1); // only what the opening stock covered
    expect((await warehouse.stock()).potato).toBe(2);
    const audit = await warehouse.audit();
    expect(audit.ok).toBe(true);
    expect(audit.ingredients.find((i) => i.ingredient === 'potato')).toMatchObject({ bought: 0, onHand: 2 });

    await warehouse.configureMarket({ failureRate: 0, zeroRate: 0 });

    await vi.waitFor(
      async () => {
        const dispatched = new Set((await warehouse.dispatched()).map((m) => m.orderId));
        expect(fries.every((f) => dispatched.has(f.orderId))).toBe(true);
      },
      { timeout: 15_000 },
    );
    expect((await warehouse.audit()).ok).toBe(true);
  });

  it('when the market has nothing today, then every empty answer is in the purchase history and the request waits until it sells', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 1 } });
    const pizzas = [ingredientsRequest('pizza'), ingredientsRequest('pizza')];
    await warehouse.request(...pizzas);

    await vi.waitFor(async () => expect((await allPurchases()).length).toBeGreaterThanOrEqual(5), { timeout: 10_000 });
    const zeros = await allPurchases();
    expect(zeros.every((p) => p.outcome === 'none' && p.quantitySold === 0 && p.error === null)).toBe(true);
    expect(new Set(zeros.map((p) => p.ingredient))).toEqual(new Set(['tomato']));
    await vi.waitFor(async () =>
      expect((await warehouse.dispatched()).map((m) => m.orderId)).toEqual([pizzas[0]!.orderId]),
    );

    await warehouse.configureMarket({ zeroRate: 0 });
    await vi.waitFor(
      async () => expect((await warehouse.dispatched()).map((m) => m.orderId)).toContain(pizzas[1]!.orderId),
      { timeout: 10_000 },
    );
    const history = await allPurchases();
    expect(history.some((p) => p.outcome === 'sold' && p.quantitySold > 0)).toBe(true);
    expect((await warehouse.audit()).ok).toBe(true);
  });
});
