import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { declaredRoutes, fuzzHttpRoutes, fuzzStreamConsumer, poisonEntries, tableFingerprint } from '@free-lunch/service-kit/testing';
import { deadLetterKey, isDecodable, MESSAGE_FIELD, streamKey } from '@free-lunch/streams';
import { KITCHEN_GROUP } from '../src/consumers/kitchen-group.js';
import { KitchenFixture } from './kitchen-fixture.js';

const TABLES = ['recipes', 'tickets', 'outbox'];

let kitchen: KitchenFixture;
beforeEach(async () => {
  kitchen = await KitchenFixture.start();
});
afterEach(async () => {
  await kitchen.dispose();
});

const snapshot = () => tableFingerprint(kitchen.app.pg, TABLES);

describe('fuzzing kitchen-app', () => {
  it('when any route gets random methods, paths, queries, headers and bodies, then it answers below 500, errors as { error, message }, and no table changes', async () => {
    const routes = declaredRoutes(kitchen.app);
    const declared = routes.map(({ method, url }) => `${method} ${url}`);
    expect(declared).toEqual(
      expect.arrayContaining(['GET /recipes', 'GET /health', 'GET /ready', 'GET /metrics', 'GET /documentation/json', 'GET /documentation/*']),
    );

    const coverage = await fuzzHttpRoutes({ app: kitchen.app, routes, snapshot, runsPerRoute: 10 });
    expect([...coverage.keys()].sort()).toEqual([...new Set(declared)].sort());
  });

  it.each([streamNames.orderPlaced, streamNames.ingredientsDispatched] as const)(
    'when %s gets entries that are no message of it, then each is dead-lettered, nothing is pending, no table changes, and a real order is still cooked',
    async (stream) => {
      const deadLettered = await fuzzStreamConsumer({
        redis: kitchen.redis,
        key: streamKey(kitchen.prefix, stream),
        deadLetterKey: deadLetterKey(kitchen.prefix, stream),
        group: KITCHEN_GROUP,
        entries: poisonEntries({ stream, messageField: MESSAGE_FIELD, decodes: (fields) => isDecodable(stream, fields) }),
        snapshot,
        numRuns: 50,
      });
      expect(deadLettered).toBeGreaterThanOrEqual(50);

      // Both consumers still work: a placed order gets its request, and the dispatch starts the cooking.
      const orderId = await kitchen.placeOrder();
      await kitchen.dispatch(await kitchen.requestFor(orderId));
      await kitchen.statusesUntil(orderId, 'cooking');
    },
  );
});
