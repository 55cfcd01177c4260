import { describe, expect, it } from 'vitest';
import { admin, buy, openMarket } from './support.js';

describe('market stats', () => {
  it('when calls are made, then /stats counts calls and units sold per ingredient and in total', async () => {
    const market = await openMarket({ zeroRate: 0, maxQuantity: 1 });
    for (const ingredient of ['tomato', 'tomato', 'tomato', 'rice', 'rice']) await buy(market, ingredient);
    await buy(market, 'truffle');

    const { status, json: stats } = await admin(market, 'GET', '/stats');

    expect(status).toBe(200);
    expect(stats.ingredients.tomato).toEqual({ calls: 3, unitsSold: 3, zeros: 0, faults: 0 });
    expect(stats.ingredients.rice).toEqual({ calls: 2, unitsSold: 2, zeros: 0, faults: 0 });
    expect(stats.ingredients.lemon).toEqual({ calls: 0, unitsSold: 0, zeros: 0, faults: 0 });
    expect(stats.totals).toEqual({ calls: 5, unitsSold: 5, zeros: 0, faults: 0, rejected: 1 });
  });

  it('when the market sells nothing, then /stats counts zeros and no units', async () => {
    const market = await openMarket({ zeroRate: 1 });
    for (let call = 0; call < 4; call += 1) await buy(market, 'lemon');

    const { json: stats } = await admin(market, 'GET', '/stats');

    expect(stats.ingredients.lemon).toEqual({ calls: 4, unitsSold: 0, zeros: 4, faults: 0 });
  });

  it('when sold amounts vary, then units sold is the sum of what the calls were told', async () => {
    const market = await openMarket({ seed: 77 });
    let told = 0;
    for (let call = 0; call < 30; call += 1) {
      told += (JSON.parse((await buy(market, 'cheese')).body) as { quantitySold: number }).quantitySold;
    }

    const { json: stats } = await admin(market, 'GET', '/stats');

    expect(told).toBeGreaterThan(0);
    expect(stats.ingredients.cheese.unitsSold).toBe(told);
    expect(stats.totals.unitsSold).toBe(told);
  });

  it('when calls fault, then /stats counts them by kind and never as units sold', async () => {
    const market = await openMarket({ failureRate: 1, faultKinds: ['absurd'] });
    for (let call = 0; call < 3; call += 1) await buy(market, 'meat');

    const { json: stats } = await admin(market, 'GET', '/stats');

    expect(stats.ingredients.meat).toEqual({ calls: 3, unitsSold: 0, zeros: 0, faults: 3 });
    expect(stats.faults).toMatchObject({ absurd: 3, http500: 0 });
    expect(stats.totals.faults).toBe(3);
  });

  it('when stats are reset, then the reset answers what was counted and counting starts again from zero', async () => {
    const market = await openMarket({ zeroRate: 0, maxQuantity: 1 });
    await buy(market, 'onion');
    await buy(market, 'onion');

    const reset = await admin(market, 'POST', '/reset-stats');
    await buy(market, 'onion');
    const { json: after } = await admin(market, 'GET', '/stats');

    expect(reset.status).toBe(200);
    expect(reset.json.ingredients.onion.calls).toBe(2);
    expect(after.ingredients.onion).toEqual({ calls: 1, unitsSold: 1, zeros: 0, faults: 0 });
    expect(after.totals.calls).toBe(1);
  });
});
