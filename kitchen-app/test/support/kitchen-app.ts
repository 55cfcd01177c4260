import { randomUUID } from 'node:crypto';
import {
  streamNames,
  type IngredientsRequestedV1,
  type OrderStatusChangedV1,
  type StreamName,
} from '@free-lunch/contracts';
import { eventually, startServiceUnderTest, type ServiceUnderTest, type UnderTestOptions } from '@free-lunch/service-kit/testing';
import { decodeMessage, deadLetterKey, streamBacklog, StreamPublisher, streamKey } from '@free-lunch/streams';
import { buildApp } from '../../src/app.js';
import { KitchenConfig } from '../../src/config.js';

/**
 * kitchen-app under test (see startServiceUnderTest), seen as its neighbours see it: a publisher
 * writing to its input streams as the orders service and the warehouse would; its output streams
 * are read with XRANGE by the functions below.
 */
export type KitchenUnderTest = ServiceUnderTest<KitchenConfig> & { publisher: StreamPublisher };

/** kitchen-app built as server.ts builds it, on its own database and key prefix. */
export async function startKitchenUnderTest(options: UnderTestOptions = {}): Promise<KitchenUnderTest> {
  const kitchen = await startServiceUnderTest({ schema: 'kitchen', config: KitchenConfig, buildApp, ...options });
  return Object.assign(kitchen, { publisher: new StreamPublisher(kitchen.redis, { prefix: kitchen.keyPrefix }) });
}

/** The orders service placing (or nudging) an order. */
export async function placeOrder(kitchen: KitchenUnderTest, orderId: string = randomUUID()): Promise<string> {
  await kitchen.publisher.publish(streamNames.orderPlaced, {
    type: 'order.placed',
    version: 1,
    orderId,
    placedAt: new Date().toISOString(),
  });
  return orderId;
}

/** The warehouse handing over exactly what a request asked for. */
export async function dispatch(
  kitchen: KitchenUnderTest,
  request: Pick<IngredientsRequestedV1, 'orderId' | 'recipe' | 'ingredients'>,
): Promise<void> {
  await kitchen.publisher.publish(streamNames.ingredientsDispatched, {
    type: 'ingredients.dispatched',
    version: 1,
    orderId: request.orderId,
    recipe: request.recipe,
    ingredients: request.ingredients,
    dispatchedAt: new Date().toISOString(),
  });
}

async function read<S extends StreamName>(kitchen: KitchenUnderTest, stream: S) {
  const entries = await kitchen.redis.xrange(streamKey(kitchen.keyPrefix, stream), '-', '+');
  return entries.map(([, fields]) => decodeMessage(stream, fields));
}

/** The ingredients requests the kitchen sent, oldest first: all, or those for one order. */
export async function requestsSent(kitchen: KitchenUnderTest, orderId?: string): Promise<IngredientsRequestedV1[]> {
  const all = await read(kitchen, streamNames.ingredientsRequested);
  return all.filter((request) => orderId === undefined || request.orderId === orderId);
}

/** The status events the kitchen announced for an order, oldest first. */
export async function statusesAnnounced(kitchen: KitchenUnderTest, orderId: string): Promise<OrderStatusChangedV1[]> {
  const all = await read(kitchen, streamNames.orderStatusChanged);
  return all.filter((event) => event.orderId === orderId);
}

export async function deadLetterCount(kitchen: KitchenUnderTest, stream: StreamName): Promise<number> {
  return kitchen.redis.xlen(deadLetterKey(kitchen.keyPrefix, stream));
}

/** The request for an order once the kitchen sent it. */
export async function requestFor(kitchen: KitchenUnderTest, orderId: string): Promise<IngredientsRequestedV1> {
  return eventually(`the ingredients request for ${orderId}`, async () => {
    const [request] = await requestsSent(kitchen, orderId);
    if (!request) throw new Error('none sent yet');
    return request;
  });
}

/** The order's status events, once one of them is `status`. */
export async function statusesUntil(
  kitchen: KitchenUnderTest,
  orderId: string,
  status: OrderStatusChangedV1['status'],
): Promise<OrderStatusChangedV1[]> {
  return eventually(`order ${orderId} to be ${status}`, async () => {
    const events = await statusesAnnounced(kitchen, orderId);
    if (!events.some((event) => event.status === status)) throw new Error(`statuses so far: ${events.map((e) => e.status).join(', ')}`);
    return events;
  });
}

/**
 * Waits until the kitchen has nothing left in hand: both input streams read and acknowledged, and
 * the outbox published. What the streams show then is final for what was sent before.
 */
export async function settled(kitchen: KitchenUnderTest): Promise<void> {
  await eventually('the kitchen to settle', async () => {
    const backlog = await streamBacklog(kitchen.redis, kitchen.keyPrefix, [
      { stream: streamNames.orderPlaced, group: 'kitchen' },
      { stream: streamNames.ingredientsDispatched, group: 'kitchen' },
    ]);
    const { rows } = await kitchen.app.pg.query<{ waiting: number }>('SELECT count(*)::int AS waiting FROM outbox');
    if (!backlog.every(({ lag, pending }) => lag === 0 && pending === 0) || rows[0]!.waiting !== 0) {
      throw new Error(`backlog ${JSON.stringify(backlog)}, ${rows[0]!.waiting} outbox rows`);
    }
  });
}

export async function ticketCount(kitchen: KitchenUnderTest, orderId: string): Promise<number> {
  const { rows } = await kitchen.app.pg.query<{ count: number }>('SELECT count(*)::int AS count FROM tickets WHERE order_id = $1', [
    orderId,
  ]);
  return rows[0]!.count;
}
