import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { liveStreamNames, streamNames, type OrderStatusChangedV1, type PlaceOrdersResponse } from '@free-lunch/contracts';
import { eventually, fuzzConsumedStream, fuzzEveryRoute, poisonEntries, tableFingerprint, type Exchange } from '@free-lunch/service-kit/testing';
import * as naming from '@free-lunch/streams';
import { ORDERS_GROUP } from '../src/consumers/status-changes.js';
import { isReady, openLiveView } from './support/live-view-client.js';
import { MANAGER_TOKEN, managerHeaders, postOrders, startOrdersUnderTest, statusEvent, type OrdersUnderTest } from './support/orders-app.js';

const TABLES = ['orders', 'order_timeline', 'outbox', 'idempotency_keys'];
// Small, so the random valid bodies that do place orders stay cheap; the bound is fuzzed all the same.
const MAX_ORDER_QUANTITY = 20;

// A fresh app per test: what the HTTP fuzzing placed must not count against the others' orders.
let orders: OrdersUnderTest;
beforeEach(async () => {
  orders = await startOrdersUnderTest({ env: { MAX_ORDER_QUANTITY: String(MAX_ORDER_QUANTITY) } });
});
afterEach(() => orders.close());

const snapshot = () => tableFingerprint(orders.app.pg, TABLES);
const rows = (fingerprint: Record<string, string>, table: string) => Number(fingerprint[table]!.split(':')[0]);

describe('fuzzing orders-app', () => {
  it('when any route gets random methods, paths, queries, headers and bodies, then it answers below 500, errors as { error, message }, and only a placed order changes the tables', async () => {
    // What each Idempotency-Key answered first: a retry gets the same orders and places none.
    const answeredByKey = new Map<string, string[]>();
    const changed = async ({ route, request, response }: Exchange, before: Record<string, string>) => {
      if (!(route.method === 'POST' && route.url === '/orders')) return false;
      const answered = response.json<PlaceOrdersResponse>().orders.map((order) => order.id);
      // The relay empties the outbox behind the answer; wait for it so the next snapshot is stable.
      await eventually('the relay to empty the outbox', async () => expect(rows(await snapshot(), 'outbox')).toBe(0));
      const placed = rows(await snapshot(), 'orders') - rows(before, 'orders');
      const key = request.headers['idempotency-key'];
      const first = key === undefined ? undefined : answeredByKey.get(key);
      if (first) {
        expect(answered).toEqual(first);
        expect(placed).toBe(0);
      } else {
        const asked = (JSON.parse((request.payload as string | Buffer).toString()) as { quantity?: number }).quantity ?? 1;
        expect(answered).toHaveLength(asked);
        expect(placed).toBe(answered.length);
        if (key !== undefined) answeredByKey.set(key, answered);
      }
      return true;
    };

    await fuzzEveryRoute({
      app: orders.app,
      expectedRoutes: [
        'POST /orders', 'GET /orders', 'GET /orders/summary', 'GET /orders/:id', 'POST /ws-ticket', 'GET /ws',
        'GET /config', 'GET /health', 'GET /ready', 'GET /metrics', 'GET /documentation/json', 'GET /documentation/*',
      ],
      validAuthorizations: [managerHeaders.authorization],
      snapshot,
      changed,
    });
  });

  // Found by the fuzzing above: both are valid ISO date-times that PostgreSQL refuses.
  it.each(['0000-01-01T00:00:00Z', '7528-10-02T22:05:00-23:59'])('when a cursor carries %s, then GET /orders answers 400, not 500', async (createdAt) => {
    const cursor = Buffer.from(JSON.stringify({ createdAt, id: '7f1c1b55-1f4e-4a5e-9d51-0d3f0c8a3b21' })).toString('base64url');
    const response = await orders.app.inject({ method: 'GET', url: `/orders?cursor=${cursor}` });
    expect(response.statusCode).toBe(400);
    expect(response.json()).toMatchObject({ error: 'invalid_cursor' });
  });

  it('when the kitchen status stream gets entries that are no status event, then each is dead-lettered, nothing is pending, no table changes, and a real event is still applied', async () => {
    const stream = streamNames.orderStatusChanged;
    const deadLettered = await fuzzConsumedStream({ service: orders, stream, group: ORDERS_GROUP, naming, snapshot, numRuns: 60 });
    expect(deadLettered).toBeGreaterThanOrEqual(60);

    const [order] = (await postOrders(orders.app, { quantity: 1 })).json<PlaceOrdersResponse>().orders;
    await orders.publisher.publish(streamNames.orderStatusChanged, statusEvent(order!.id, 'awaiting_ingredients', new Date().toISOString()));
    await eventually('the status event to be applied', async () => {
      const response = await orders.app.inject({ method: 'GET', url: `/orders/${order!.id}` });
      expect(response.json()).toMatchObject({ status: 'awaiting_ingredients', recipe: 'burger' });
    });
  });

  it('when the live streams get entries that are no event, then the live view skips them and still shows the next real one', async () => {
    const client = await openLiveView(orders.app, '/ws');
    client.send({ type: 'auth', token: MANAGER_TOKEN });
    await client.received(isReady);

    const poison = fc.sample(
      fc.constantFrom(...liveStreamNames).chain((stream) =>
        poisonEntries({ stream, messageField: naming.MESSAGE_FIELD, decodes: (fields) => naming.isDecodable(stream, fields) }).map((fields) => ({
          stream,
          fields,
        })),
      ),
      { numRuns: 150, seed: 42 },
    );
    const pipeline = orders.redis.pipeline();
    for (const { stream, fields } of poison) pipeline.xadd(naming.streamKey(orders.keyPrefix, stream), '*', ...fields);
    await pipeline.exec();

    const event: OrderStatusChangedV1 = statusEvent('7f1c1b55-1f4e-4a5e-9d51-0d3f0c8a3b21', 'cooking', new Date().toISOString());
    const id = await orders.publisher.publish(streamNames.orderStatusChanged, event);
    await eventually('the real event on the live view', () => expect(client.events().map((seen) => seen.id)).toContain(id));
    expect(client.events()).toEqual([{ stream: streamNames.orderStatusChanged, id, message: event }]);
    client.close();
  });
});
