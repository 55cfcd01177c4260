import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { startMarketSimulator } from '@free-lunch/market-simulator';
import { createTestDatabase, deleteTestKeys, PostgresProxy, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { FreeLunchClient, freePort, startServiceProcess, type ServiceName } from '../src/index.js';
import { dispatchedByIngredient, unitsForOrders } from './ledger.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe('PostgreSQL going away mid-burst', () => {
  it('when every service loses PostgreSQL for a few seconds, then no process dies and every order is delivered exactly once, every unit accounted for', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const proxy = await PostgresProxy.start(testEnv.databaseUrl);
    cleanups.push(() => proxy.close());
    // A slow, stingy market keeps the burst in flight long enough for the outage to land in it.
    const market = await startMarketSimulator({ port: 0, logLevel: 'warn', latencyMs: 15, zeroRate: 0.5, seed: 5 });
    cleanups.push(() => market.close());
    const managerToken = randomBytes(12).toString('hex');
    const keyPrefix = testKeyPrefix();
    cleanups.push(() => deleteTestKeys(keyPrefix));
    const env = {
      DATABASE_URL: proxy.url(database.url),
      REDIS_URL: testEnv.redisUrl,
      KEY_PREFIX: keyPrefix,
      MANAGER_TOKEN: managerToken,
      MARKET_URL: market.url,
      LOG_LEVEL: 'fatal',
      COOK_TIME_MS: '200',
      CLAIM_IDLE_MS: '1500',
      RECONCILE_AFTER_MS: '10000',
    };
    const start = async (name: ServiceName) => {
      const service = await startServiceProcess(name, await freePort(), env);
      cleanups.push(() => service.stop());
      return service;
    };
    const services = [await start('inventory'), await start('kitchen'), await start('orders')];
    const [inventory, kitchen, orders] = services;
    const client = new FreeLunchClient({ orders: orders!.url, kitchen: kitchen!.url, inventory: inventory!.url }, managerToken);

    const placed = await client.placeOrders(300);
    const midBurst = await client.waitForDelivered(20, { timeoutMs: 30_000 });
    expect(midBurst.delivered).toBeLessThan(300);
    expect(proxy.unplug()).toBeGreaterThan(0);
    await delay(3_000);
    proxy.plugIn();

    // A service that dies fails the test at once, with its output, rather than after the delivery timeout.
    const exited = new Promise<never>((_, reject) => {
      for (const service of services) {
        service.child.once('exit', (code, signal) =>
          reject(new Error(`${service.name} exited (${code ?? signal}):\n${service.output().slice(-2_000)}`)),
        );
      }
    });
    await Promise.race([client.waitForDelivered(300, { timeoutMs: 90_000 }), exited]);
    const delivered = await client.allOrders('delivered');
    expect(delivered.map((order) => order.id).sort()).toEqual(placed.map((order) => order.id).sort());
    const audit = await client.audit();
    expect(audit.ok).toBe(true);
    expect(dispatchedByIngredient(audit)).toEqual(unitsForOrders(delivered));
  }, 150_000);
});
