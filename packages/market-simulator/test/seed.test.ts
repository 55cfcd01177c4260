import { describe, expect, it } from 'vitest';
import { admin, buyInTurn, openMarket } from './support.js';

// Every fault that answers at once, so a whole run completes; the timeout fault has its own tests.
const mixedDay = {
  failureRate: 0.3,
  faultKinds: ['http500', 'nonJson', 'negative', 'fractional', 'absurd'] as const,
  zeroRate: 0.4,
  maxQuantity: 5,
};

describe('seeded markets', () => {
  it('when two markets share a seed, then the same calls get the same answers', async () => {
    const first = await openMarket({ ...mixedDay, faultKinds: [...mixedDay.faultKinds], seed: 42 });
    const second = await openMarket({ ...mixedDay, faultKinds: [...mixedDay.faultKinds], seed: 42 });

    const firstRun = await buyInTurn(first, 80);
    const secondRun = await buyInTurn(second, 80);

    expect(secondRun).toEqual(firstRun);
    // A market that always said the same thing would pass the line above; a real day is varied.
    expect(new Set(firstRun.map((response) => `${response.status} ${response.body}`)).size).toBeGreaterThan(6);
  });

  it('when two markets have different seeds, then their answers differ', async () => {
    const first = await openMarket({ ...mixedDay, faultKinds: [...mixedDay.faultKinds], seed: 1 });
    const second = await openMarket({ ...mixedDay, faultKinds: [...mixedDay.faultKinds], seed: 2 });

    expect(await buyInTurn(second, 40)).not.toEqual(await buyInTurn(first, 40));
  });

  it('when the seed is set again through PUT /config, then the answers start over', async () => {
    const market = await openMarket({ ...mixedDay, faultKinds: [...mixedDay.faultKinds], seed: 9 });
    const firstRun = await buyInTurn(market, 30);

    await admin(market, 'PUT', '/config', { seed: 9 });

    expect(await buyInTurn(market, 30)).toEqual(firstRun);
  });
});
