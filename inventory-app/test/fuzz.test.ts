import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { declaredRoutes, fuzzHttpRoutes, fuzzStreamConsumer, poisonEntries, tableFingerprint } from '@free-lunch/service-kit/testing';
import { deadLetterKey, isDecodable, MESSAGE_FIELD, streamKey } from '@free-lunch/streams';
import { ingredientsRequest, TestWarehouse } from './support/warehouse.js';

const TABLES = ['stock', 'stock_ledger', 'purchases', 'purchase_rounds', 'requests', 'pending_needs', 'outbox'];
/** The consumer group of every inventory replica (inventory-app/src/app.ts). */
const GROUP = 'inventory';
const stream = streamNames.ingredientsRequested;

let warehouse: TestWarehouse;
beforeEach(async () => {
  warehouse = await TestWarehouse.open();
});
afterEach(async () => {
  await warehouse.close();
});

const snapshot = () => tableFingerprint(warehouse.app.pg, TABLES);


describe('fuzzing inventory-app', () => {
  it('when any route gets random methods, paths, queries, headers and bodies, then it answers below 500, errors as { error, message }, and no table changes', async () => {
    const routes = declaredRoutes(warehouse.app);
    const declared = routes.map(({ method, url }) => `${method} ${url}`);
    expect(declared).toEqual(
      expect.arrayContaining([
        'GET /stock', 'GET /purchases', 'GET /stock/audit', 'GET /health', 'GET /ready', 'GET /metrics',
        'GET /documentation/json', 'GET /documentation/*',
      ]),
    );

    const coverage = await fuzzHttpRoutes({ app: warehouse.app, routes, snapshot, runsPerRoute: 10 });
    expect([...coverage.keys()].sort()).toEqual([...new Set(declared)].sort());
  });

  it('when the kitchen request stream gets entries that are no request, then each is dead-lettered, nothing is pending, no table changes, and a real request is still dispatched', async () => {
    const deadLettered = await fuzzStreamConsumer({
      redis: warehouse.redis,
      key: streamKey(warehouse.prefix, stream),
      deadLetterKey: deadLetterKey(warehouse.prefix, stream),
      group: GROUP,
      entries: poisonEntries({ stream, messageField: MESSAGE_FIELD, decodes: (fields) => isDecodable(stream, fields) }),
      snapshot,
      numRuns: 60,
    });
    expect(deadLettered).toBeGreaterThanOrEqual(60);

    const request = ingredientsRequest('pizza');
    await warehouse.request(request);
    await vi.waitFor(async () => expect((await warehouse.dispatched()).map((dispatch) => dispatch.orderId)).toContain(request.orderId), {
      timeout: 10_000,
    });
    expect((await warehouse.audit()).ok).toBe(true);
  });
});
