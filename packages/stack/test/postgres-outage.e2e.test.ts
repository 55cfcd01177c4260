import { setTimeout as delay } from 'node:timers/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { PostgresProxy, testEnv } from '@free-lunch/service-kit/testing';
import type { ServiceProcess } from '../src/index.js';
import { expectEachDeliveredOnce } from './ledger.js';
import { processStack } from './process-stack.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe('PostgreSQL going away mid-burst', () => {
  it('when every service loses PostgreSQL for a few seconds, then no process dies and every order is delivered exactly once, every unit accounted for', async () => {
    const proxy = await PostgresProxy.start(testEnv.databaseUrl);
    cleanups.push(() => proxy.close());
    const stack = await processStack(cleanups, { seed: 5, databaseUrl: (url) => proxy.url(url), env: { LOG_LEVEL: 'fatal' } });
    const services = [await stack.start('inventory'), await stack.start('kitchen'), await stack.start('orders')];
    const [inventory, kitchen, orders] = services as [ServiceProcess, ServiceProcess, ServiceProcess];
    const client = stack.client({ orders, kitchen, inventory });

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
    await expectEachDeliveredOnce(client, placed);
  }, 150_000);
});
