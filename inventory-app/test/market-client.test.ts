import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startMarketSimulator, type RunningMarketSimulator } from '@free-lunch/market-simulator';
import { MarketClient } from '../src/market/market-client.js';

let market: RunningMarketSimulator | undefined;
let client: MarketClient | undefined;

afterEach(async () => {
  await client?.close();
  await market?.close();
  client = market = undefined;
});

async function marketThat(options: Parameters<typeof startMarketSimulator>[0], timeoutMs = 2000) {
  market = await startMarketSimulator({ logLevel: 'silent', seed: 1, ...options });
  client = new MarketClient({ url: market.url, concurrency: 4, timeoutMs, maxQuantity: 1000 });
  return client;
}

describe('MarketClient', () => {
  it('when the market sells, then the call is a sale of a whole number of units', async () => {
    const buyer = await marketThat({ zeroRate: 0, maxQuantity: 3 });
    const call = await buyer.buy('tomato');
    expect(call).toMatchObject({ ingredient: 'tomato', outcome: 'sold', error: null });
    expect([1, 2, 3]).toContain(call.quantitySold);
  });

  it('when the market has nothing today, then the call is "none" and buys nothing', async () => {
    const buyer = await marketThat({ zeroRate: 1 });
    expect(await buyer.buy('lemon')).toMatchObject({ outcome: 'none', quantitySold: 0, error: null });
  });

  it.each([
    ['http500', /HTTP 500/],
    ['nonJson', /not JSON/],
    ['negative', /negative/],
    ['fractional', /fractional/],
    ['absurd', /absurd/],
  ] as const)('when the market answers with a %s fault, then the call is a fault saying why', async (fault, reason) => {
    const buyer = await marketThat({ failureRate: 1, faultKinds: [fault] });
    const call = await buyer.buy('rice');
    expect(call.outcome).toBe('fault');
    expect(call.quantitySold).toBe(0);
    expect(call.error).toMatch(reason);
  });

  it('when the market hangs past the deadline, then the call is a timeout fault, on time', async () => {
    const buyer = await marketThat({ failureRate: 1, faultKinds: ['timeout'], hangMs: 5_000 }, 150);
    const startedAt = performance.now();
    const call = await buyer.buy('meat');
    const tookMs = performance.now() - startedAt;
    expect(call).toMatchObject({ outcome: 'fault', quantitySold: 0 });
    expect(call.error).toMatch(/no answer within 150 ms/);
    // Deadlines are shared by calls starting within 50 ms of each other, so one may run that much
    // longer; the rest of the margin is for a loaded machine's timers (the pool's own timeouts alone
    // came in about 0.5–1 s late).
    expect(tookMs).toBeGreaterThanOrEqual(145);
    expect(tookMs).toBeLessThan(150 + 50 + 400);
  });

  it('when the market sends its answer a byte at a time past the deadline, then the call is a timeout fault, not a sale', async () => {
    // A stall the simulator cannot play: headers at once, then a body dribbled out slowly.
    const dribbler = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const body = [...'{"quantitySold":3}'];
      const timer = setInterval(() => {
        const next = body.shift();
        if (next === undefined) {
          clearInterval(timer);
          response.end();
        } else {
          response.write(next);
        }
      }, 40);
      response.on('close', () => clearInterval(timer));
    });
    await new Promise<void>((resolve) => dribbler.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = dribbler.address() as AddressInfo;
      client = new MarketClient({ url: `http://127.0.0.1:${port}/buy`, concurrency: 1, timeoutMs: 200, maxQuantity: 1000 });
      const startedAt = performance.now();
      const call = await client.buy('onion');
      expect(call).toMatchObject({ outcome: 'fault', quantitySold: 0 });
      expect(call.error).toMatch(/no answer within 200 ms/);
      expect(performance.now() - startedAt).toBeLessThan(200 + 50 + 400);
    } finally {
      await client?.close();
      client = undefined;
      dribbler.closeAllConnections();
      await new Promise((resolve) => dribbler.close(resolve));
    }
  });

  it('when nothing listens at the market address, then the call is a fault, not an exception', async () => {
    const gone = await startMarketSimulator({ logLevel: 'silent' });
    await gone.close();
    client = new MarketClient({ url: gone.url, concurrency: 1, timeoutMs: 1000, maxQuantity: 1000 });
    const call = await client.buy('onion');
    expect(call.outcome).toBe('fault');
    expect(call.error).toMatch(/ECONNREFUSED/);
  });
});
