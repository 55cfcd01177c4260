import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@free-lunch/service-kit/testing';
import { auditOf, dispatchesOf, ingredientsRequest, type InventoryUnderTest, requestIngredients, startInventoryUnderTest } from './support/inventory-app.js';

let warehouse: InventoryUnderTest;
afterEach(async () => {
  await warehouse?.close();
});

/** Market calls one replica has made, from its /metrics. */
async function marketCalls(app: FastifyInstance): Promise<number> {
  const text = (await app.inject({ url: '/metrics' })).body;
  return [...text.matchAll(/^inventory_market_calls_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function allServed(orderIds: string[]): Promise<void> {
  const served = new Set((await dispatchesOf(warehouse)).map((m) => m.orderId));
  expect(orderIds.filter((id) => !served.has(id))).toEqual([]);
}

describe('several warehouse replicas', () => {
  it('when two replicas share the work, then only one buys at the market, every request is served once, and the other takes over the buying when it stops', async () => {
    warehouse = await startInventoryUnderTest({ market: { zeroRate: 0.3, maxQuantity: 3 } });
    const first = warehouse.app;
    const second = await warehouse.startReplica();

    const morning = Array.from({ length: 60 }, (_, i) => ingredientsRequest(i % 2 ? 'burger' : 'rice_with_chicken'));
    await requestIngredients(warehouse, ...morning);
    await eventually('the morning requests to be served', () => allServed(morning.map((r) => r.orderId)), { timeoutMs: 30_000, intervalMs: 200 });

    const callsByReplica = [await marketCalls(first), await marketCalls(second)];
    expect(callsByReplica.filter((calls) => calls > 0)).toHaveLength(1);
    const buyer = callsByReplica[0]! > 0 ? first : second;
    const standby = buyer === first ? second : first;

    await warehouse.stopReplica(buyer);
    const afternoon = Array.from({ length: 20 }, () => ingredientsRequest('salad'));
    await requestIngredients(warehouse, ...afternoon);
    await eventually('the afternoon requests to be served', () => allServed(afternoon.map((r) => r.orderId)), { timeoutMs: 30_000, intervalMs: 200 });

    expect(await marketCalls(standby)).toBeGreaterThan(0);
    const dispatched = await dispatchesOf(warehouse);
    expect(dispatched).toHaveLength(morning.length + afternoon.length);
    expect((await auditOf(warehouse, standby)).ok).toBe(true);
  }, 90_000);
});
