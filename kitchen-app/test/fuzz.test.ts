import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { fuzzConsumedStream, fuzzEveryRoute, tableFingerprint } from '@free-lunch/service-kit/testing';
import * as naming from '@free-lunch/streams';
import { KITCHEN_GROUP } from '../src/consumers/kitchen-group.js';
import { dispatch, placeOrder, requestFor, startKitchenUnderTest, statusesUntil, type KitchenUnderTest } from './support/kitchen-app.js';

let kitchen: KitchenUnderTest;
beforeEach(async () => {
  kitchen = await startKitchenUnderTest();
});
afterEach(() => kitchen.close());

const snapshot = () => tableFingerprint(kitchen.app.pg, ['recipes', 'tickets', 'outbox']);

describe('fuzzing kitchen-app', () => {
  it('when any route gets random methods, paths, queries, headers and bodies, then it answers below 500, errors as { error, message }, and no table changes', async () => {
    await fuzzEveryRoute({
      app: kitchen.app,
      expectedRoutes: ['GET /recipes', 'GET /health', 'GET /ready', 'GET /metrics', 'GET /documentation/json', 'GET /documentation/*'],
      snapshot,
    });
  });

  it.each([streamNames.orderPlaced, streamNames.ingredientsDispatched] as const)(
    'when %s gets entries that are no message of it, then each is dead-lettered, nothing is pending, no table changes, and a real order is still cooked',
    async (stream) => {
      const deadLettered = await fuzzConsumedStream({ service: kitchen, stream, group: KITCHEN_GROUP, naming, snapshot, numRuns: 50 });
      expect(deadLettered).toBeGreaterThanOrEqual(50);

      // Both consumers still work: a placed order gets its request, and the dispatch starts the cooking.
      const orderId = await placeOrder(kitchen);
      await dispatch(kitchen, await requestFor(kitchen, orderId));
      await statusesUntil(kitchen, orderId, 'cooking');
    },
  );
});
