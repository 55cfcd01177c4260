import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { testEnv } from '@free-lunch/service-kit/testing';
import { expectEachDeliveredOnce } from './ledger.js';
import { processStack } from './process-stack.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => {});
});

/** Deletes every key under `prefix`, as a Redis restarted empty or wiped would have lost them. */
async function wipe(redis: Redis, prefix: string): Promise<number> {
  let wiped = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) wiped += await redis.unlink(...keys);
  } while (cursor !== '0');
  return wiped;
}

describe('Redis losing its data mid-burst', () => {
  it('when every key of the stack is wiped with orders in flight and unread, then the consumers re-drive from PostgreSQL at once, with default settings, and every order is delivered exactly once within seconds', async () => {
    const stack = await processStack(cleanups, { seed: 11 });
    // Started side by side: a process spends its first seconds loading code.
    const [inventory, kitchen, orders] = await Promise.all([stack.start('inventory'), stack.start('kitchen'), stack.start('orders')]);
    const client = stack.client({ orders, kitchen, inventory });
    const redis = new Redis(testEnv.redisUrl);
    cleanups.push(async () => void redis.disconnect());

    const placed = await client.placeOrders(100);
    await client.waitForDelivered(20, { timeoutMs: 30_000, intervalMs: 50 });
    // With no kitchen reading, the next orders' announcements wait in Redis: the wipe loses them for sure.
    await kitchen.kill();
    placed.push(...(await client.placeOrders(100)));
    // Streams, groups, pending entries, liveness keys: all gone, as after a failover to an empty
    // replica. Twice, a moment apart, so the second loss lands on what the first one's recovery built.
    expect(await wipe(redis, stack.keyPrefix)).toBeGreaterThan(0);
    await new Promise((resolve) => setTimeout(resolve, 300));
    await wipe(redis, stack.keyPrefix);
    const wipedAt = Date.now();
    const midBurst = await client.summary();
    expect(midBurst.delivered).toBeLessThan(200);
    const restarted = stack.client({ orders, inventory, kitchen: await stack.start('kitchen') });

    // Within 20 s of the wipe, kitchen restart included, so well within RECONCILE_AFTER_MS (30 s)
    // and its interval: the re-drive does not wait for the reconciler.
    await restarted.waitForDelivered(200, { timeoutMs: 20_000 - (Date.now() - wipedAt), intervalMs: 100 });
    await expectEachDeliveredOnce(restarted, placed);
  }, 90_000);
});
