import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { eventually, fuzzConsumedStream, fuzzEveryRoute, tableFingerprint } from '@free-lunch/service-kit/testing';
import * as naming from '@free-lunch/streams';
import { auditOf, dispatchesOf, ingredientsRequest, requestIngredients, startInventoryUnderTest, type InventoryUnderTest } from './support/inventory-app.js';

const TABLES = ['stock', 'stock_ledger', 'purchases', 'purchase_rounds', 'market_journal', 'requests', 'pending_needs', 'outbox'];
/** The consumer group of every inventory replica (inventory-app/src/app.ts). */
const GROUP = 'inventory';

let warehouse: InventoryUnderTest;
beforeEach(async () => {
  warehouse = await startInventoryUnderTest();
});
afterEach(() => warehouse.close());

const snapshot = () => tableFingerprint(warehouse.app.pg, TABLES);

describe('fuzzing inventory-app', () => {
  it('when any route gets random methods, paths, queries, headers and bodies, then it answers below 500, errors as { error, message }, and no table changes', async () => {
    await fuzzEveryRoute({
      app: warehouse.app,
      expectedRoutes: [
        'GET /stock', 'GET /purchases', 'GET /stock/audit', 'GET /health', 'GET /ready', 'GET /metrics',
        'GET /documentation/json', 'GET /documentation/*',
      ],
      snapshot,
    });
  });

  it('when the kitchen request stream gets entries that are no request, then each is dead-lettered, nothing is pending, no table changes, and a real request is still dispatched', async () => {
    const stream = streamNames.ingredientsRequested;
    const deadLettered = await fuzzConsumedStream({ service: warehouse, stream, group: GROUP, naming, snapshot, numRuns: 60 });
    expect(deadLettered).toBeGreaterThanOrEqual(60);

    const request = ingredientsRequest('pizza');
    await requestIngredients(warehouse, request);
    await eventually('the real request to be dispatched', async () =>
      expect((await dispatchesOf(warehouse)).map((dispatch) => dispatch.orderId)).toContain(request.orderId),
    );
    expect((await auditOf(warehouse)).ok).toBe(true);
  });
});
