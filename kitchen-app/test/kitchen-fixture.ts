import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import {
  streamNames,
  type IngredientsRequestedV1,
  type OrderStatusChangedV1,
  type StreamName,
} from '@free-lunch/contracts';
import { parseConfig } from '@free-lunch/service-kit';
import { createTestDatabase, testEnv, testKeyPrefix, type TestDatabase } from '@free-lunch/service-kit/testing';
import { decodeMessage, deadLetterKey, streamBacklog, StreamPublisher, streamKey } from '@free-lunch/streams';
import { buildApp } from '../src/app.js';
import { KitchenConfig } from '../src/config.js';

/**
 * One kitchen under test: its own database and Redis key prefix, the real app built by buildApp,
 * and the view a neighbouring service has of it: it publishes to the kitchen's input streams and
 * reads its output streams with XRANGE.
 */
export class KitchenFixture {
  app!: FastifyInstance;

  private constructor(
    readonly db: TestDatabase,
    readonly prefix: string,
    readonly redis: Redis,
    readonly publisher: StreamPublisher,
    private readonly env: Record<string, string>,
  ) {}

  static async start(env: Record<string, string> = {}): Promise<KitchenFixture> {
    const db = await createTestDatabase();
    const prefix = testKeyPrefix();
    const redis = new Redis(testEnv.redisUrl);
    const fixture = new KitchenFixture(db, prefix, redis, new StreamPublisher(redis, { prefix }), env);
    await fixture.open();
    return fixture;
  }

  /** Builds and readies a kitchen on this fixture's database and prefix (again, after `closeKitchen`). */
  async open(): Promise<void> {
    const config = parseConfig(KitchenConfig, {
      ...(await this.db.serviceEnv('kitchen')),
      REDIS_URL: testEnv.redisUrl,
      KEY_PREFIX: this.prefix,
      LOG_LEVEL: 'silent',
      ...this.env,
    });
    this.app = await buildApp(config);
    await this.app.ready();
  }

  async closeKitchen(): Promise<void> {
    await this.app.close();
  }

  /** Closes the kitchen, removes this test's Redis keys and drops its database. */
  async dispose(): Promise<void> {
    await this.app.close();
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await this.redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    await this.redis.quit();
    await this.db.drop();
  }

  /** The orders service placing (or nudging) an order. */
  async placeOrder(orderId: string = randomUUID()): Promise<string> {
    await this.publisher.publish(streamNames.orderPlaced, {
      type: 'order.placed',
      version: 1,
      orderId,
      placedAt: new Date().toISOString(),
    });
    return orderId;
  }

  /** The warehouse handing over exactly what a request asked for. */
  async dispatch(request: Pick<IngredientsRequestedV1, 'orderId' | 'recipe' | 'ingredients'>): Promise<void> {
    await this.publisher.publish(streamNames.ingredientsDispatched, {
      type: 'ingredients.dispatched',
      version: 1,
      orderId: request.orderId,
      recipe: request.recipe,
      ingredients: request.ingredients,
      dispatchedAt: new Date().toISOString(),
    });
  }

  async read<S extends StreamName>(stream: S) {
    const entries = await this.redis.xrange(streamKey(this.prefix, stream), '-', '+');
    return entries.map(([, fields]) => decodeMessage(stream, fields));
  }

  async requests(orderId?: string): Promise<IngredientsRequestedV1[]> {
    const all = await this.read(streamNames.ingredientsRequested);
    return all.filter((request) => orderId === undefined || request.orderId === orderId);
  }

  async statuses(orderId: string): Promise<OrderStatusChangedV1[]> {
    const all = await this.read(streamNames.orderStatusChanged);
    return all.filter((event) => event.orderId === orderId);
  }

  async deadLetters(stream: StreamName): Promise<number> {
    return this.redis.xlen(deadLetterKey(this.prefix, stream));
  }

  /** The request for an order once the kitchen sent it. */
  async requestFor(orderId: string): Promise<IngredientsRequestedV1> {
    const [request] = await waitFor(`ingredients request for ${orderId}`, async () => {
      const found = await this.requests(orderId);
      return found.length > 0 ? found : undefined;
    });
    return request!;
  }

  /** The order's status events, once the last one is `status`. */
  async statusesUntil(orderId: string, status: OrderStatusChangedV1['status']): Promise<OrderStatusChangedV1[]> {
    return waitFor(`order ${orderId} ${status}`, async () => {
      const events = await this.statuses(orderId);
      return events.some((event) => event.status === status) ? events : undefined;
    });
  }

  /**
   * Waits until the kitchen has nothing left in hand: both input streams read and acknowledged,
   * and the outbox published. What the streams show then is final for what was sent before.
   */
  async settled(): Promise<void> {
    await waitFor('kitchen to settle', async () => {
      const backlog = await streamBacklog(this.redis, this.prefix, [
        { stream: streamNames.orderPlaced, group: 'kitchen' },
        { stream: streamNames.ingredientsDispatched, group: 'kitchen' },
      ]);
      const { rows } = await this.app.pg.query<{ waiting: number }>('SELECT count(*)::int AS waiting FROM outbox');
      return backlog.every(({ lag, pending }) => lag === 0 && pending === 0) && rows[0]!.waiting === 0 ? true : undefined;
    });
  }

  async ticketCount(orderId: string): Promise<number> {
    const { rows } = await this.app.pg.query<{ count: number }>(
      'SELECT count(*)::int AS count FROM tickets WHERE order_id = $1',
      [orderId],
    );
    return rows[0]!.count;
  }
}

/** Polls `probe` until it returns something; fails with `what` after `timeoutMs`. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 10_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
