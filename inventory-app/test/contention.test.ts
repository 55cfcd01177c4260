import { afterEach, describe, expect, it } from 'vitest';
import { recipeNames, type PurchasePage } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { auditOf, dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest, stockOf } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
afterEach(async () => {
  await warehouse?.close();
});

describe('contention for scarce stock', () => {
  it('when hundreds of requests compete for scarce stock and a stingy market, then every one is served, stock never goes negative and every unit is accounted for', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 0.8, maxQuantity: 5 } });
    const requests = Array.from({ length: 300 }, (_, i) => ingredientsRequest(recipeNames[i % recipeNames.length]!));
    // In several bursts, as a busy kitchen would send them.
    for (let i = 0; i < requests.length; i += 50) await requestIngredients(warehouse, ...requests.slice(i, i + 50));

    const audits: boolean[] = [];
    await eventually('every request to be served', async () => {
        // Sampled while the warehouse is busy: the books must balance at any moment, not just at the end.
        audits.push((await auditOf(warehouse)).ok);
        const served = new Set((await dispatchesOf(warehouse)).map((m) => m.orderId));
        expect(served.size).toBe(requests.length);
      }, { timeoutMs: 90_000, intervalMs: 250 });

    expect(audits.every(Boolean)).toBe(true);
    const dispatched = await dispatchesOf(warehouse);
    expect(dispatched).toHaveLength(requests.length);
    const stock = await stockOf(warehouse);
    for (const units of Object.values(stock)) expect(units).toBeGreaterThanOrEqual(0);
    expect((await auditOf(warehouse)).ok).toBe(true);

    const purchases = (await warehouse.app.inject({ url: '/purchases?limit=500' })).json<PurchasePage>();
    expect(purchases.items.some((p) => p.outcome === 'none')).toBe(true);
  }, 120_000);
});
