import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ingredientsRequest, TestWarehouse } from './support/warehouse.js';

let warehouse: TestWarehouse;
afterEach(async () => {
  await warehouse?.close();
});

/** Market calls one replica has made, from its /metrics. */
async function marketCalls(app: FastifyInstance): Promise<number> {
  const text = (await app.inject({ url: '/metrics' })).body;
  return [...text.matchAll(/^inventory_market_calls_total\{[^}]*\} (\d+)/gm)].reduce((sum, m) => sum + Number(m[1]), 0);
}

async function allServed(orderIds: string[]): Promise<void> {
  const served = new Set((await warehouse.dispatched()).map((m) => m.orderId));
  expect(orderIds.filter((id) => !served.has(id))).toEqual([]);
}

describe('several warehouse replicas', () => {
  it('when two replicas share the work, then only one buys at the market, every request is served once, and the other takes over the buying when it stops', async () => {
    warehouse = await TestWarehouse.open({ market: { zeroRate: 0.3, maxQuantity: 3 } });
    const first = warehouse.app;
    const second = await warehouse.addReplica();

    const morning = Array.from({ length: 60 }, (_, i) => ingredientsRequest(i % 2 ? 'burger' : 'rice_with_chicken'));
    await warehouse.request(...morning);
    await vi.waitFor(() => allServed(morning.map((r) => r.orderId)), { timeout: 30_000, interval: 200 });

    const callsByReplica = [await marketCalls(first), await marketCalls(second)];
    expect(callsByReplica.filter((calls) => calls > 0)).toHaveLength(1);
    const buyer = callsByReplica[0]! > 0 ? first : second;
    const standby = buyer === first ? second : first;

    await warehouse.stopReplica(buyer);
    const afternoon = Array.from({ length: 20 }, () => ingredientsRequest('salad'));
    await warehouse.request(...afternoon);
    await vi.waitFor(() => allServed(afternoon.map((r) => r.orderId)), { timeout: 30_000, interval: 200 });

    expect(await marketCalls(standby)).toBeGreaterThan(0);
    const dispatched = await warehouse.dispatched();
    expect(dispatched).toHaveLength(morning.length + afternoon.length);
    expect((await warehouse.audit(standby)).ok).toBe(true);
  }, 90_000);
});
