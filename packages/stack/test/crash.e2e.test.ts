import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { startMarketSimulator } from '@free-lunch/market-simulator';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { FreeLunchClient, freePort, startServiceProcess, type ServiceName, type ServiceProcess } from '../src/index.js';
import { dispatchedByIngredient, unitsForOrders } from './ledger.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe('processes killed mid-burst', () => {
  it('when the kitchen and the warehouse are killed with messages in hand, then replacements reclaim the work and every order is delivered exactly once', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    // A slow, stingy market and a real cooking time keep the burst in flight long enough to kill it.
    const market = await startMarketSimulator({ port: 0, logLevel: 'warn', latencyMs: 15, zeroRate: 0.5, seed: 3 });
    cleanups.push(() => market.close());
    const managerToken = randomBytes(12).toString('hex');
    const keyPrefix = testKeyPrefix();
    cleanups.push(() => deleteTestKeys(keyPrefix));
    const env = {
      DATABASE_URL: database.url,
      REDIS_URL: testEnv.redisUrl,
      KEY_PREFIX: keyPrefix,
      MANAGER_TOKEN: managerToken,
      MARKET_URL: market.url,
      LOG_LEVEL: 'warn',
      COOK_TIME_MS: '300',
      CLAIM_IDLE_MS: '1500',
      RECONCILE_AFTER_MS: '10000',
    };
    const start = async (name: ServiceName) => {
      const service = await startServiceProcess(name, await freePort(), env);
      cleanups.push(() => service.stop());
      return service;
    };
    const inventory = await start('inventory');
    const kitchen = await start('kitchen');
    const orders = await start('orders');
    const urls = { orders: orders.url, kitchen: kitchen.url, inventory: inventory.url };
    const client = new FreeLunchClient(urls, managerToken);

    const placed = await client.placeOrders(400);
    let counts = await client.summary();
    while (counts.delivered < 20) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      counts = await client.summary();
    }
    await kitchen.kill();
    await inventory.kill();
    const midBurst = await client.summary();
    expect(midBurst.delivered).toBeLessThan(400);

    const replacements: ServiceProcess[] = [await start('inventory'), await start('kitchen')];
    const restarted = new FreeLunchClient({ ...urls, inventory: replacements[0]!.url, kitchen: replacements[1]!.url }, managerToken);

    await restarted.waitForDelivered(400, { timeoutMs: 90_000 });
    const delivered = await restarted.allOrders('delivered');
    expect(delivered.map((order) => order.id).sort()).toEqual(placed.map((order) => order.id).sort());
    const audit = await restarted.audit();
    expect(audit.ok).toBe(true);
    expect(dispatchedByIngredient(audit)).toEqual(unitsForOrders(delivered));
  }, 150_000);
});
