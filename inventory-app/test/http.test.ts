import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ingredients, type PurchasePage, type PurchaseRecord } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { auditOf, dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest } from './support/inventory-app.js';

// One warehouse for the read-only API checks: none of them changes anything.
let warehouse: InventoryUnderTest;
beforeAll(async () => {
  warehouse = await startInventoryUnderTest({ market: { zeroRate: 0.5, maxQuantity: 2 } });
});
afterAll(async () => {
  await warehouse?.close();
});

describe('the warehouse API', () => {
  it('when the warehouse opens, then /stock shows 5 of every ingredient and the audit is ok', async () => {
    const response = await warehouse.app.inject({ url: '/stock' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ stock: ingredients.map((ingredient) => ({ ingredient, onHand: 5 })) });
    // No origin is configured (CORS_ORIGINS), so no page of another origin may read it.
    expect(response.headers['access-control-allow-origin']).toBeUndefined();
    const fromElsewhere = await warehouse.app.inject({ url: '/stock', headers: { origin: 'https://evil.example' } });
    expect(fromElsewhere.headers['access-control-allow-origin']).toBeUndefined();
    const audit = await auditOf(warehouse);
    expect(audit.ok).toBe(true);
    expect(audit.ingredients).toHaveLength(10);
    expect(audit.ingredients[0]).toEqual({
      ingredient: 'tomato',
      initial: 5,
      bought: 0,
      dispatched: 0,
      onHand: 5,
      expected: 5,
      ok: true,
    });
  });

  it('when the history spans several pages, then /purchases pages newest first with a cursor until the last page', async () => {
    // Ten pizzas need 30 tomatoes: the market is asked many times, a few units at a time.
    const pizzas = Array.from({ length: 10 }, () => ingredientsRequest('pizza'));
    await requestIngredients(warehouse, ...pizzas);
    await eventually('ten dispatches', async () => expect(await dispatchesOf(warehouse)).toHaveLength(10), { timeoutMs: 20_000 });

    const everything = (await warehouse.app.inject({ url: '/purchases?limit=500' })).json<PurchasePage>();
    expect(everything.nextCursor).toBeNull();
    expect(everything.items.length).toBeGreaterThan(6);

    const paged: PurchaseRecord[] = [];
    let cursor: string | null = null;
    do {
      const url: string = `/purchases?limit=3${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
      const response = await warehouse.app.inject({ url });
      expect(response.statusCode).toBe(200);
      const page = response.json<PurchasePage>();
      expect(page.items.length).toBeLessThanOrEqual(3);
      paged.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);

    expect(paged).toEqual(everything.items);
    const times = paged.map((p) => Date.parse(p.at));
    expect(times).toEqual([...times].sort((a, b) => b - a));
    expect((await auditOf(warehouse)).ok).toBe(true);
  });

  it.each([
    ['/purchases?limit=0', 'validation_failed', /limit/],
    ['/purchases?limit=abc', 'validation_failed', /limit/],
    ['/purchases?limit=501', 'validation_failed', /limit/],
    ['/purchases?colour=red', 'validation_failed', /colour|unrecognized/i],
    ['/purchases?cursor=bm90LWEtY3Vyc29y', 'invalid_cursor', /cursor/],
    ['/purchases?cursor=%24%24%24', 'invalid_cursor', /cursor/],
  ])('when GET %s, then 400 with a JSON error saying what is wrong', async (url, error, message) => {
    const response = await warehouse.app.inject({ url });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/application\/json/);
    const body = response.json();
    expect(body.error).toBe(error);
    expect(body.message).toMatch(message);
  });

  it('when a route does not exist, then 404 with a JSON error', async () => {
    const response = await warehouse.app.inject({ url: '/stockroom' });
    expect(response.statusCode).toBe(404);
    expect(response.json()).toMatchObject({ error: 'not_found' });
  });

  it('when the OpenAPI document is fetched, then it describes the stock, purchases and audit endpoints', async () => {
    const response = await warehouse.app.inject({ url: '/documentation/json' });
    expect(response.statusCode).toBe(200);
    const paths = Object.keys(response.json().paths);
    expect(paths).toEqual(expect.arrayContaining(['/stock', '/purchases', '/stock/audit']));
  });

  it('when Prometheus scrapes, then the warehouse metrics are there', async () => {
    const response = await warehouse.app.inject({ url: '/metrics' });
    expect(response.statusCode).toBe(200);
    for (const name of [
      'inventory_pending_requests',
      'inventory_market_calls_total',
      'inventory_units_bought_total',
      'inventory_units_dispatched_total',
    ]) {
      expect(response.body).toContain(name);
    }
    expect(response.body).toMatch(/inventory_units_dispatched_total\{ingredient="tomato"[^}]*\} 30/);
  });
});
