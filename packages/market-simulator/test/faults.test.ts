import { describe, expect, it, vi } from 'vitest';
import type { FaultKind } from '../src/index.js';
import { admin, buy, buyInTurn, openMarket, type MarketResponse } from './support.js';

const quantityIn = (response: MarketResponse) => (JSON.parse(response.body) as { quantitySold: number }).quantitySold;

/** What the warehouse would see from each fault that answers at once. */
const answeringFaults: Array<[FaultKind, (response: MarketResponse) => void]> = [
  [
    'http500',
    (response) => {
      expect(response.status).toBe(500);
      expect(JSON.parse(response.body)).toEqual({ error: 'market_failure', message: expect.any(String) });
    },
  ],
  [
    'nonJson',
    (response) => {
      expect(response.status).toBe(200);
      expect(() => JSON.parse(response.body)).toThrow(SyntaxError);
    },
  ],
  [
    'negative',
    (response) => {
      expect(response.status).toBe(200);
      expect(quantityIn(response)).toBeLessThan(0);
    },
  ],
  [
    'fractional',
    (response) => {
      expect(response.status).toBe(200);
      expect(quantityIn(response)).toBeGreaterThan(0);
      expect(Number.isInteger(quantityIn(response))).toBe(false);
    },
  ],
  [
    'absurd',
    (response) => {
      expect(response.status).toBe(200);
      expect(Number.isInteger(quantityIn(response))).toBe(true);
      expect(quantityIn(response)).toBeGreaterThan(1_000_000);
    },
  ],
];

describe('market faults', () => {
  it.each(answeringFaults)('when every call faults with %s, then every answer is that fault', async (fault, check) => {
    const market = await openMarket({ failureRate: 1, faultKinds: [fault] });

    const responses = await buyInTurn(market, 20);

    for (const response of responses) check(response);
    const stats = await admin(market, 'GET', '/stats');
    expect(stats.json.faults[fault]).toBe(20);
    expect(stats.json.totals.unitsSold).toBe(0);
  });

  it('when failureRate is 0, then no call faults even with every fault kind enabled', async () => {
    const market = await openMarket({ failureRate: 0, seed: 3 });

    const responses = await buyInTurn(market, 50);

    for (const response of responses) {
      expect(response.status).toBe(200);
      expect(Number.isInteger(quantityIn(response))).toBe(true);
      expect(quantityIn(response)).toBeGreaterThanOrEqual(0);
      expect(quantityIn(response)).toBeLessThanOrEqual(5);
    }
  });

  it('when the market hangs, then the call gets no answer until the caller gives up', async () => {
    const market = await openMarket({ failureRate: 1, faultKinds: ['timeout'] });

    const call = buy(market, 'rice', { signal: AbortSignal.timeout(300) });

    await expect(call).rejects.toMatchObject({ name: 'TimeoutError' });
    expect((await admin(market, 'GET', '/stats')).json.faults.timeout).toBe(1);
  });

  it('when a hang outlasts hangMs, then the market finally answers 504', async () => {
    const market = await openMarket({ failureRate: 1, faultKinds: ['timeout'], hangMs: 20 });

    const response = await buy(market, 'rice');

    expect(response.status).toBe(504);
    expect(JSON.parse(response.body)).toEqual({ error: 'market_timeout', message: expect.any(String) });
  });

  it('when the server closes while a call hangs, then the call is cut off instead of holding the shutdown', async () => {
    // Far longer than the test timeout: if closing waited for the hang, this test would time out.
    const market = await openMarket({ failureRate: 1, faultKinds: ['timeout'], hangMs: 600_000 });
    const call = buy(market, 'rice');
    // The call must be hanging inside the market before the market closes.
    await vi.waitFor(async () => expect((await admin(market, 'GET', '/stats')).json.faults.timeout).toBe(1));

    await market.close();

    await expect(call).rejects.toThrow();
  });
});
