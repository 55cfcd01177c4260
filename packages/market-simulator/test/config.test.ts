import { describe, expect, it } from 'vitest';
import { createMarketSimulator, InvalidMarketOptionsError } from '../src/index.js';
import { admin, buy, buyInTurn, openMarket } from './support.js';

describe('changing the market at run time', () => {
  it('when nothing was configured, then GET /config shows the defaults', async () => {
    const market = await openMarket();

    const { json: options } = await admin(market, 'GET', '/config');

    expect(options).toMatchObject({
      latencyMs: 0,
      latencyJitterMs: 0,
      failureRate: 0,
      zeroRate: 0.4,
      maxQuantity: 5,
      hangMs: 30_000,
      faultKinds: ['http500', 'timeout', 'nonJson', 'negative', 'fractional', 'absurd'],
    });
  });

  it('when PUT /config sets zeroRate to 1, then later calls sell nothing and other options stay', async () => {
    const market = await openMarket({ zeroRate: 0, maxQuantity: 2 });
    expect((await buyInTurn(market, 5)).map((response) => JSON.parse(response.body).quantitySold)).not.toContain(0);

    const changed = await admin(market, 'PUT', '/config', { zeroRate: 1 });

    expect(changed.status).toBe(200);
    expect(changed.json).toMatchObject({ zeroRate: 1, maxQuantity: 2 });
    expect((await buyInTurn(market, 5)).map((response) => response.body)).toEqual(
      Array(5).fill('{"quantitySold":0}'),
    );
  });

  it('when PUT /config turns faults on, then calls fault, and turning them off again heals the market', async () => {
    const market = await openMarket();

    await admin(market, 'PUT', '/config', { failureRate: 1, faultKinds: ['http500'] });
    expect((await buy(market, 'potato')).status).toBe(500);

    await admin(market, 'PUT', '/config', { failureRate: 0 });
    expect((await buy(market, 'potato')).status).toBe(200);
  });

  it.each([
    [{ failureRate: 2 }, 'failureRate'],
    [{ zeroRate: -0.1 }, 'zeroRate'],
    [{ faultKinds: ['meteor'] }, 'faultKinds'],
    [{ faultKinds: [] }, 'faultKinds'],
    [{ maxQuantity: 0 }, 'maxQuantity'],
    [{ maxQuantity: 2.5 }, 'maxQuantity'],
    [{ latencyMs: -1 }, 'latencyMs'],
    [{ hangMs: 'long' }, 'hangMs'],
    [{ seed: -3 }, 'seed'],
    [{ colour: 'red' }, 'colour'],
    [[1, 2], 'object'],
  ])('when PUT /config gets %j, then it answers 400 naming %s and keeps the options', async (body, named) => {
    const market = await openMarket({ zeroRate: 1 });

    const rejected = await admin(market, 'PUT', '/config', body);

    expect(rejected.status).toBe(400);
    expect(rejected.json).toEqual({ error: 'validation_failed', message: expect.stringContaining(named) });
    expect((await admin(market, 'GET', '/config')).json).toMatchObject({ zeroRate: 1, failureRate: 0, maxQuantity: 5 });
    expect((await buy(market, 'tomato')).body).toBe('{"quantitySold":0}');
  });

  it('when PUT /config gets a body that is not JSON, then it answers 400 invalid_json', async () => {
    const market = await openMarket();

    const rejected = await admin(market, 'PUT', '/config', '{"zeroRate": ');

    expect(rejected.status).toBe(400);
    expect(rejected.json).toEqual({ error: 'invalid_json', message: expect.any(String) });
  });

  it('when the simulator is built with an out-of-range option, then it refuses to build, naming it', () => {
    expect(() => createMarketSimulator({ zeroRate: 2, logLevel: 'silent' })).toThrow(InvalidMarketOptionsError);
    expect(() => createMarketSimulator({ zeroRate: 2, logLevel: 'silent' })).toThrow(/zeroRate/);
  });
});
