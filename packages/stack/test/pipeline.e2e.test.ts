import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { orderStatuses, recipeNames } from '@free-lunch/contracts';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix, type TestDatabase } from '@free-lunch/service-kit/testing';
import { FreeLunchClient, startInProcessStack, type InProcessStack } from '../src/index.js';
import { dispatchedByIngredient, unitsForOrders } from './ledger.js';

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startStack(env: Record<string, string>, market: Parameters<typeof startInProcessStack>[1] = {}) {
  const database: TestDatabase = await createTestDatabase();
  cleanups.push(() => database.drop());
  const keyPrefix = testKeyPrefix();
  cleanups.push(() => deleteTestKeys(keyPrefix));
  const managerToken = randomBytes(24).toString('hex');
  const stack: InProcessStack = await startInProcessStack(
    { databaseUrl: database.url, redisUrl: testEnv.redisUrl, keyPrefix, managerToken, env },
    market,
  );
  cleanups.push(() => stack.close());
  return { stack, keyPrefix, client: new FreeLunchClient(stack.urls, managerToken) };
}

async function getJson(url: string) {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as any };
}

describe('the order pipeline, end to end', () => {
  it('when the manager orders 50 dishes, then every one is delivered with a recipe, a forward timeline and a clean audit', async () => {
    const { stack, client } = await startStack({ COOK_TIME_MS: '20' });

    const placed = await client.placeOrders(50);
    expect(placed).toHaveLength(50);
    expect(new Set(placed.map((order) => order.id)).size).toBe(50);
    expect(placed.every((order) => order.status === 'queued')).toBe(true);

    const counts = await client.waitForDelivered(50);
    expect(counts).toMatchObject({ delivered: 50, total: 50, queued: 0, awaiting_ingredients: 0, cooking: 0 });

    const delivered = await client.allOrders('delivered');
    expect(delivered.map((order) => order.id).sort()).toEqual(placed.map((order) => order.id).sort());
    for (const order of delivered.slice(0, 10)) {
      const { status, body } = await getJson(`${stack.urls.orders}/orders/${order.id}`);
      expect(status).toBe(200);
      expect(recipeNames).toContain(body.recipe);
      expect(body.timeline.map((entry: { status: string }) => entry.status)).toEqual([...orderStatuses]);
      const times = body.timeline.map((entry: { at: string }) => Date.parse(entry.at));
      expect(times).toEqual([...times].sort((a, b) => a - b));
    }

    const audit = await client.audit();
    expect(audit.ok).toBe(true);
    expect(dispatchedByIngredient(audit)).toEqual(unitsForOrders(delivered));
    const { stock } = await client.stock();
    expect(stock).toHaveLength(10);
    expect(stock.every((level) => level.onHand >= 0)).toBe(true);

    const { body: recipes } = await getJson(`${stack.urls.kitchen}/recipes`);
    expect(recipes.recipes.map((recipe: { name: string }) => recipe.name).sort()).toEqual([...recipeNames].sort());
    const { body: purchases } = await getJson(`${stack.urls.inventory}/purchases?limit=5`);
    expect(Array.isArray(purchases.items)).toBe(true);

    // Every consumer group has caught up, and says so where Prometheus looks.
    const backlogs = [
      [stack.urls.kitchen, 'orders.placed', 'kitchen'],
      [stack.urls.kitchen, 'inventory.ingredients-dispatched', 'kitchen'],
      [stack.urls.inventory, 'kitchen.ingredients-requested', 'inventory'],
      [stack.urls.orders, 'kitchen.order-status-changed', 'orders'],
    ] as const;
    for (const [url, stream, group] of backlogs) {
      const metrics = await (await fetch(`${url}/metrics`)).text();
      expect(metrics).toMatch(new RegExp(`stream_backlog\\{stream="${stream}",group="${group}",kind="pending"[^}]*\\} 0\n`));
      expect(metrics).toMatch(new RegExp(`stream_messages_handled_total\\{[^}]*stream="${stream}"[^}]*\\} [1-9]`));
    }
  });

  it('when hundreds of orders compete for scarce stock and the market mostly has nothing, then all are delivered and no unit is lost or counted twice', async () => {
    const { client, stack } = await startStack(
      { COOK_TIME_MS: '0', MARKET_RETRY_BASE_MS: '5', MARKET_RETRY_MAX_MS: '50' },
      { zeroRate: 0.8, maxQuantity: 3, seed: 7 },
    );

    const placed = [...(await client.placeOrders(150)), ...(await client.placeOrders(150))];
    expect(placed).toHaveLength(300);

    await client.waitForDelivered(300, { timeoutMs: 90_000 });
    const delivered = await client.allOrders('delivered');
    expect(delivered).toHaveLength(300);

    const audit = await client.audit();
    expect(audit.ok).toBe(true);
    expect(dispatchedByIngredient(audit)).toEqual(unitsForOrders(delivered));
    expect(audit.ingredients.every((entry) => entry.onHand >= 0)).toBe(true);

    const { body: purchases } = await getJson(`${stack.urls.inventory}/purchases?limit=500`);
    expect(purchases.items.some((purchase: { outcome: string }) => purchase.outcome === 'none')).toBe(true);
    const totals = (await (await fetch(stack.market.url.replace(/\/api\/.*$/, '/stats'))).json()) as any;
    const bought = audit.ingredients.reduce((sum, entry) => sum + entry.bought, 0);
    expect(bought).toBe(totals.totals.unitsSold);
  });

  it('when Redis loses every key mid-burst, then the pipeline recovers from PostgreSQL and every order is delivered exactly once', async () => {
    const { client, keyPrefix } = await startStack({
      COOK_TIME_MS: '0',
      RECONCILE_AFTER_MS: '1500',
      RECONCILE_INTERVAL_MS: '300',
      CLAIM_IDLE_MS: '1000',
    });
    const redis = new Redis(testEnv.redisUrl);
    cleanups.push(async () => void redis.disconnect());

    const placed = await client.placeOrders(200);
    // Wipe everything this stack keeps in Redis while the burst is in flight: streams, groups and
    // pending entries are gone, as after a failover to an empty replica.
    let wiped = 0;
    for (let round = 0; round < 3; round++) {
      const keys: string[] = [];
      let cursor = '0';
      do {
        const [next, batch] = await redis.scan(cursor, 'MATCH', `${keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        keys.push(...batch);
      } while (cursor !== '0');
      if (keys.length) wiped += await redis.unlink(...keys);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(wiped).toBeGreaterThan(0);

    await client.waitForDelivered(200, { timeoutMs: 60_000 });
    const delivered = await client.allOrders('delivered');
    expect(delivered.map((order) => order.id).sort()).toEqual(placed.map((order) => order.id).sort());
    const audit = await client.audit();
    expect(audit.ok).toBe(true);
    expect(dispatchedByIngredient(audit)).toEqual(unitsForOrders(delivered));
  });
});

