import { afterEach, describe, expect, it } from 'vitest';
import { expectEachDeliveredOnce } from './ledger.js';
import { processStack } from './process-stack.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

describe('processes killed mid-burst', () => {
  it('when the kitchen and the warehouse are killed with messages in hand, then replacements reclaim the work and every order is delivered exactly once', async () => {
    // A slow, stingy market and a real cooking time keep the burst in flight long enough to kill it.
    const stack = await processStack(cleanups, { seed: 3 });
    const inventory = await stack.start('inventory');
    const kitchen = await stack.start('kitchen');
    const orders = await stack.start('orders');
    const client = stack.client({ orders, kitchen, inventory });

    const placed = await client.placeOrders(400);
    await client.waitForDelivered(20, { timeoutMs: 30_000, intervalMs: 50 });
    await kitchen.kill();
    await inventory.kill();
    const midBurst = await client.summary();
    expect(midBurst.delivered).toBeLessThan(400);

    const restarted = stack.client({ orders, inventory: await stack.start('inventory'), kitchen: await stack.start('kitchen') });

    await restarted.waitForDelivered(400, { timeoutMs: 90_000 });
    await expectEachDeliveredOnce(restarted, placed);
  }, 150_000);
});
