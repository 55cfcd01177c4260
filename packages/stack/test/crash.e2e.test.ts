import { afterEach, describe, expect, it } from 'vitest';
import { expectEachDeliveredOnce } from './ledger.js';
import { processStack } from './process-stack.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/**
 * How long after a fault the last order may be delivered. A functional bound, not a measure of
 * speed: with the defaults a killed member's messages wait for its liveness key to lapse (5 s)
 * rather than CLAIM_IDLE_MS (30 s), so the burst's tail comes in a few seconds after the fault.
 */
const RECOVERY_BOUND_MS = 20_000;
const BURST = 1_000;

describe('processes killed mid-burst', () => {
  it('when a kitchen and the warehouse are killed with messages in hand, then the other kitchen and a new warehouse take the work over within seconds, with default settings, and every order is delivered exactly once', async () => {
    // A slow, stingy market and a real cooking time keep the burst in flight long enough to kill it.
    const stack = await processStack(cleanups, { seed: 3 });
    // Started side by side: a process spends its first seconds loading code.
    const [inventory, doomedKitchen, kitchen, orders] = await Promise.all([
      stack.start('inventory'),
      stack.start('kitchen'),
      stack.start('kitchen'),
      stack.start('orders'),
    ]);
    const client = stack.client({ orders, kitchen, inventory });

    // Enough that a good share is still in flight once the first are delivered.
    const placed = await client.placeOrders(BURST);
    await client.waitForDelivered(20, { timeoutMs: 30_000, intervalMs: 50 });
    await doomedKitchen.kill();
    await inventory.kill();
    const killedAt = Date.now();
    const midBurst = await client.summary();
    expect(midBurst.delivered).toBeLessThan(BURST);

    // The warehouse comes back as a new member; the surviving kitchen carries on without a restart.
    const restarted = stack.client({ orders, kitchen, inventory: await stack.start('inventory') });

    await restarted.waitForDelivered(BURST, { timeoutMs: RECOVERY_BOUND_MS - (Date.now() - killedAt), intervalMs: 100 });
    await expectEachDeliveredOnce(restarted, placed);
  }, 90_000);
});
