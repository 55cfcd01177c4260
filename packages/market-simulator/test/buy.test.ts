import { describe, expect, it } from 'vitest';
import { ingredients } from '@free-lunch/contracts';
import { buy, buyInTurn, openMarket, quantitySold } from './support.js';

describe('buying at the farmers market', () => {
  it('when an ingredient is bought, then the market answers 200 JSON holding only a whole quantitySold', async () => {
    const market = await openMarket();

    for (const ingredient of ingredients) {
      const response = await buy(market, ingredient);

      expect(response.status).toBe(200);
      expect(response.contentType).toMatch(/^application\/json/);
      const body = JSON.parse(response.body);
      expect(Object.keys(body)).toEqual(['quantitySold']);
      expect(Number.isInteger(body.quantitySold)).toBe(true);
      expect(body.quantitySold).toBeGreaterThanOrEqual(0);
    }
  });

  it('when the buy URL is started on port 0, then it is the real market path on a real port', async () => {
    const market = await openMarket();

    expect(market.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/farmers-market\/buy$/);
    expect(market.url).not.toContain(':0/');
  });

  it('when no ingredient is named, then the market answers 400 with an error code and a message', async () => {
    const market = await openMarket();

    const response = await buy(market, undefined);

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'missing_ingredient', message: expect.stringContaining('tomato') });
  });

  it('when the ingredient is not one the market sells, then it answers 400 naming it', async () => {
    const market = await openMarket();

    const response = await buy(market, 'truffle');

    expect(response.status).toBe(400);
    expect(JSON.parse(response.body)).toEqual({ error: 'unknown_ingredient', message: expect.stringContaining('"truffle"') });
  });

  it('when zeroRate is 1, then every call sells nothing', async () => {
    const market = await openMarket({ zeroRate: 1 });

    const sold = await Promise.all(Array.from({ length: 50 }, () => quantitySold(market)));

    expect(sold).toEqual(Array(50).fill(0));
  });

  it('when zeroRate is 0, then every call sells a whole number from 1 to maxQuantity and every such amount turns up', async () => {
    const market = await openMarket({ zeroRate: 0, maxQuantity: 3, seed: 11 });

    const sold = await Promise.all(Array.from({ length: 120 }, () => quantitySold(market)));

    for (const quantity of sold) {
      expect(Number.isInteger(quantity)).toBe(true);
      expect(quantity).toBeGreaterThanOrEqual(1);
      expect(quantity).toBeLessThanOrEqual(3);
    }
    expect(new Set(sold)).toEqual(new Set([1, 2, 3]));
  });

  it('when zeroRate is the default, then the market sometimes sells nothing and sometimes sells', async () => {
    const market = await openMarket({ seed: 5 });

    const sold = await Promise.all(Array.from({ length: 100 }, () => quantitySold(market)));

    expect(sold).toContain(0);
    expect(sold.some((quantity) => quantity > 0)).toBe(true);
    expect(Math.max(...sold)).toBeLessThanOrEqual(5);
  });

  it('when the market is slow, then it still answers every call with a sale', async () => {
    const market = await openMarket({ latencyMs: 20, latencyJitterMs: 30, zeroRate: 0 });

    const responses = await buyInTurn(market, 5);

    expect(responses.map((response) => response.status)).toEqual([200, 200, 200, 200, 200]);
  });

  it('when a path is not the market, then it answers 404 JSON', async () => {
    const market = await openMarket();

    const response = await fetch(new URL('/api/farmers-market/sell', market.baseUrl));

    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: 'not_found', message: expect.any(String) });
  });
});
