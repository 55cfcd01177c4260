import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { RedisProxy } from '@free-lunch/service-kit/testing';
import {
  deadLetterKey,
  LINGER_FULL_BATCH,
  StreamConsumer,
  StreamPublisher,
  streamKey,
  type ConsumedMessage,
  type StreamConsumerOptions,
  type StreamMetrics,
} from '../src/index.js';
import {
  blockedConnection,
  deferred,
  groupInfo,
  isolatedPrefix,
  logger,
  orderPlaced,
  pendingCount,
  readDeadLetters,
  redisClient,
} from './helpers.js';

const stream = streamNames.orderPlaced;
const group = 'kitchen';
type Placed = ConsumedMessage<typeof stream>;

describe('StreamConsumer', () => {
  let redis: Redis;
  let keys: ReturnType<typeof isolatedPrefix>;
  let key: string;
  let publisher: StreamPublisher;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeEach(() => {
    redis = redisClient();
    keys = isolatedPrefix();
    key = streamKey(keys.prefix, stream);
    publisher = new StreamPublisher(redis, { prefix: keys.prefix });
  });

  afterEach(async () => {
    for (const cleanUp of cleanups.splice(0).reverse()) await cleanUp();
    await keys.cleanUp(redis);
    await redis.quit();
  });

  /** A started consumer with quick retry settings; stopped after the test. */
  async function startConsumer(
    handleBatch: (messages: Placed[]) => Promise<void>,
    options: Partial<StreamConsumerOptions<typeof stream>> = {},
  ): Promise<StreamConsumer<typeof stream>> {
    const consumer = new StreamConsumer({
      redis,
      prefix: keys.prefix,
      stream,
      group,
      consumer: `member-${cleanups.length}`,
      handleBatch,
      logger,
      blockMs: 100,
      claimIdleMs: 200,
      claimIntervalMs: 50,
      ...options,
    });
    await consumer.start();
    cleanups.push(() => consumer.stop());
    return consumer;
  }

  /**
   * A started consumer whose every connection goes through a proxy of its own, and the order ids it
   * has handled. The proxy and client are cleaned up after the test; stopping the consumer is the
   * test's to arrange.
   */
  async function consumerBehindProxy({ blockMs, connectionName }: { blockMs: number; connectionName?: string }) {
    const proxy = await RedisProxy.start();
    const proxied = proxy.client({ retryStrategy: () => 50, connectionName });
    proxied.on('error', () => undefined); // outages are the point of these tests
    cleanups.push(async () => {
      proxied.disconnect();
      await proxy.unplug();
    });
    const handled: string[] = [];
    const consumer = new StreamConsumer({
      redis: proxied,
      prefix: keys.prefix,
      stream,
      group,
      consumer: `member-behind-proxy-${cleanups.length}`,
      handleBatch: async (messages) => {
        handled.push(...messages.map((m) => m.message.orderId));
      },
      logger,
      blockMs,
    });
    await consumer.start();
    return { proxy, proxied, consumer, handled };
  }

  async function publishOrders(count: number): Promise<string[]> {
    const messages = Array.from({ length: count }, () => orderPlaced());
    await publisher.publishMany(messages.map((message) => ({ stream, message })));
    return messages.map((message) => message.orderId);
  }

  it('when messages trickle in while a consumer lingers after a full batch, then those that arrived meanwhile are handled as one batch', async () => {
    const batches: string[][] = [];
    await startConsumer(
      async (messages) => {
        batches.push(messages.map((m) => m.message.orderId));
      },
      { lingerMs: 500 },
    );
    const first = await publishOrders(LINGER_FULL_BATCH);
    await vi.waitFor(() => expect(batches).toHaveLength(1));
    // Published one by one, well inside the linger that follows the first (partial) batch.
    const trickle = [orderPlaced(), orderPlaced(), orderPlaced()];
    for (const message of trickle) await publisher.publish(stream, message);

    await vi.waitFor(() => expect(batches.flat()).toHaveLength(LINGER_FULL_BATCH + 3), { timeout: 5_000 });
    expect(batches).toEqual([first, trickle.map((m) => m.orderId)]);
  });

  it('when a batch is small, then the consumer lingers only its share and the next message is not held back', async () => {
    const handledAt = new Map<string, number>();
    await startConsumer(
      async (messages) => {
        for (const { message } of messages) handledAt.set(message.orderId, Date.now());
      },
      { lingerMs: 5_000 },
    );
    const [first] = await publishOrders(1);
    await vi.waitFor(() => expect(handledAt.has(first!)).toBe(true));

    const publishedAt = Date.now();
    const [second] = await publishOrders(1);

    // A batch of one is followed by a hundredth of the linger (50 ms), not all 5 s of it.
    await vi.waitFor(() => expect(handledAt.has(second!)).toBe(true), { timeout: 2_000 });
    expect(handledAt.get(second!)! - publishedAt).toBeLessThan(1_000);
  });

  it('when a batch of messages is published while the consumer waits, then it wakes once and handles them as one batch', async () => {
    const batches: string[][] = [];
    // One long blocked read, so the batch lands while the consumer waits (stop() cuts it short).
    await startConsumer(
      async (messages) => {
        batches.push(messages.map((m) => m.message.orderId));
      },
      { blockMs: 5_000, claimIntervalMs: 60_000 },
    );
    await new Promise((resolve) => setTimeout(resolve, 300));

    const orderIds = await publishOrders(50);

    await vi.waitFor(() => expect(batches.flat()).toHaveLength(50), { timeout: 5_000 });
    expect(batches).toEqual([orderIds]);
  });

  it('when orders are waiting, then the consumer hands them over as one batch, in order, and acks them', async () => {
    const orderIds = await publishOrders(10);
    const batches: Placed[][] = [];
    await startConsumer(async (messages) => {
      batches.push(messages);
    });

    await vi.waitFor(() => expect(batches).toHaveLength(1), { timeout: 5_000 });
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
    expect(batches[0]!.map((m) => m.message.orderId)).toEqual(orderIds);
    expect(batches[0]!.every((m) => m.deliveries === 1 && m.stream === stream)).toBe(true);
  });

  it('when a member dies holding a batch, then another member reclaims it and finishes the work', async () => {
    const orderIds = await publishOrders(5);
    // The dead member: read its batch through the group, then never acked it.
    await redis.xgroup('CREATE', key, group, '0');
    await redis.xreadgroup('GROUP', group, 'dead-member', 'COUNT', 5, 'STREAMS', key, '>');
    expect(await pendingCount(redis, key, group)).toBe(5);

    const handled: Placed[] = [];
    await startConsumer(async (messages) => {
      handled.push(...messages);
    });

    await vi.waitFor(() => expect(handled).toHaveLength(5), { timeout: 5_000 });
    expect(handled.map((m) => m.message.orderId)).toEqual(orderIds);
    expect(handled.every((m) => m.deliveries === 2)).toBe(true);
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
  });

  it('when a message is handled but not acked, then it reaches the handler again and idempotency keeps its effect single', async () => {
    const [orderId] = await publishOrders(1);
    const deliveriesSeen: number[] = [];
    const ordersCooked = new Set<string>();
    await startConsumer(async ([message]) => {
      deliveriesSeen.push(message!.deliveries);
      ordersCooked.add(message!.message.orderId); // idempotent by order id
      // The first time, the process "crashes" after its work committed but before the ack.
      if (message!.deliveries === 1) throw new Error('crashed before the ack');
    });

    await vi.waitFor(() => expect(deliveriesSeen).toEqual([1, 2]), { timeout: 5_000 });
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
    expect([...ordersCooked]).toEqual([orderId]);
    expect(await redis.exists(deadLetterKey(keys.prefix, stream))).toBe(0);
  });

  it('when a message keeps taking its members down without a verdict, then it is dead-lettered without reaching the handler', async () => {
    const [doomed, fine] = await publishOrders(2);
    await redis.xgroup('CREATE', key, group, '0');
    const [[, entries]] = (await redis.xreadgroup('GROUP', group, 'dead-member', 'COUNT', 1, 'STREAMS', key, '>')) as [
      [string, Array<[string, string[]]>],
    ];
    const doomedId = entries[0]![0];
    // Four more members died holding it: the group has handed it out five times in all.
    await redis.xclaim(key, group, 'dead-member', 0, doomedId, 'RETRYCOUNT', 5);

    const handled: string[] = [];
    await startConsumer(async (messages) => {
      handled.push(...messages.map((m) => m.message.orderId));
    }, { maxDeliveries: 5 });

    await vi.waitFor(async () => expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(1), { timeout: 5_000 });
    await vi.waitFor(() => expect(handled).toEqual([fine]));
    const [letter] = await readDeadLetters(redis, deadLetterKey(keys.prefix, stream));
    expect(letter).toMatchObject({ messageId: doomedId, deliveries: 6 });
    expect(letter!.reason).toMatch(/without ever being acknowledged/);
    expect(JSON.parse(letter!.fields.m!).orderId).toBe(doomed);
  });

  it('when entries are malformed, then they are dead-lettered with the reason and the good ones are still handled', async () => {
    const handled: string[] = [];
    await startConsumer(async (messages) => {
      handled.push(...messages.map((m) => m.message.orderId));
    });
    const good = [orderPlaced(), orderPlaced(), orderPlaced()];
    const pipeline = redis.pipeline();
    pipeline.xadd(key, '*', 'm', JSON.stringify(good[0]));
    pipeline.xadd(key, '*', 'm', '{not json');
    pipeline.xadd(key, '*', 'm', JSON.stringify(good[1]));
    pipeline.xadd(key, '*', 'm', JSON.stringify({ ...orderPlaced(), orderId: 'order-7' }));
    pipeline.xadd(key, '*', 'body', 'hello');
    pipeline.xadd(key, '*', 'm', JSON.stringify(good[2]));
    const ids = (await pipeline.exec())!.map(([, id]) => id as string);

    await vi.waitFor(() => expect(handled).toHaveLength(3), { timeout: 5_000 });
    expect(handled).toEqual(good.map((m) => m.orderId));
    const letters = await readDeadLetters(redis, deadLetterKey(keys.prefix, stream));
    expect(letters).toMatchObject([ids[1], ids[3], ids[4]].map((messageId) => ({ messageId, group, stream, deliveries: 1 })));
    expect(letters[0]!.reason).toMatch(/not JSON/);
    expect(letters[0]!.fields).toEqual({ m: '{not json' });
    expect(letters[1]!.reason).toMatch(/orderId/);
    expect(letters[2]!.reason).toMatch(/no "m" field/);
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
  });

  it('when one message always fails, then it is dead-lettered after maxDeliveries while the rest of its batch is handled', async () => {
    const orderIds = await publishOrders(5);
    const poison = orderIds[2]!;
    const cooked = new Set<string>();
    const poisonAttempts: number[] = [];
    const counted = { handled: 0, failed: 0, deadLettered: 0 };
    const metrics: StreamMetrics = {
      handled: (_stream, _group, count) => (counted.handled += count),
      failed: (_stream, _group, count) => (counted.failed += count),
      deadLettered: (_stream, _group, count) => (counted.deadLettered += count),
    };
    await startConsumer(
      async (messages) => {
        // All-or-nothing like a SQL transaction: nothing of a failing batch takes effect.
        const poisoned = messages.find((m) => m.message.orderId === poison);
        if (poisoned) {
          if (messages.length === 1) poisonAttempts.push(poisoned.deliveries);
          throw new Error('recipe card is unreadable');
        }
        for (const m of messages) cooked.add(m.message.orderId);
      },
      { maxDeliveries: 3, metrics },
    );

    await vi.waitFor(() => expect(counted.deadLettered).toBe(1), { timeout: 10_000 });
    expect([...cooked].sort()).toEqual(orderIds.filter((id) => id !== poison).sort());
    expect(poisonAttempts).toEqual([1, 2, 3]);
    const [letter] = await readDeadLetters(redis, deadLetterKey(keys.prefix, stream));
    expect(letter).toMatchObject({ reason: 'recipe card is unreadable', deliveries: 3, group });
    expect(JSON.parse(letter!.fields.m!).orderId).toBe(poison);
    expect(counted).toEqual({ handled: 4, failed: 3, deadLettered: 1 });
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
  });

  it('when Redis loses the stream and its group, then the consumer recreates the group and handles new messages', async () => {
    const handled: string[] = [];
    await startConsumer(async (messages) => {
      handled.push(...messages.map((m) => m.message.orderId));
    });
    const before = await publishOrders(2);
    await vi.waitFor(() => expect(handled).toEqual(before), { timeout: 5_000 });

    await redis.del(key);
    const after = await publishOrders(3);

    await vi.waitFor(() => expect(handled).toEqual([...before, ...after]), { timeout: 10_000 });
    expect(await groupInfo(redis, key, group)).toMatchObject({ pending: 0 });
  });

  it('when Redis is unreachable for a while, then the consumer carries on once it is back', async () => {
    const { proxy, proxied, consumer, handled } = await consumerBehindProxy({ blockMs: 100 });
    cleanups.push(() => consumer.stop());
    const before = await publishOrders(2);
    await vi.waitFor(() => expect(handled).toEqual(before), { timeout: 5_000 });

    await proxy.unplug();
    await vi.waitFor(() => expect(proxied.status).not.toBe('ready'));
    const during = await publishOrders(3);
    await proxy.plugIn();

    await vi.waitFor(() => expect(handled).toEqual([...before, ...during]), { timeout: 15_000 });
  });

  it('when stopped while its reading connection hangs half-way through reconnecting, then stop() still returns', async () => {
    const name = `stalled-reader-${randomUUID()}`;
    // The name goes to the consumer's reading connection too (a duplicate), so it can be found and cut.
    const { proxy, consumer, handled } = await consumerBehindProxy({ blockMs: 5_000, connectionName: name });
    const first = await publishOrders(1);
    await vi.waitFor(() => expect(handled).toEqual(first), { timeout: 5_000 });
    // Blocked in its next read: cut that connection; it reconnects into a Redis that never answers,
    // with the read held to be sent again once the connection is ready.
    const blockedReader = () => blockedConnection(redis, name, 'xreadgroup');
    await vi.waitFor(async () => expect(await blockedReader()).toBeDefined(), { timeout: 5_000 });
    proxy.stallNewConnections();
    await redis.client('KILL', 'ID', (await blockedReader())!);
    await delay(300);

    const stopped = await Promise.race([consumer.stop().then(() => 'stopped'), delay(3_000).then(() => 'still stopping')]);
    expect(stopped).toBe('stopped');
  });

  it('when stopped after its reading connection came back, then it stops at once rather than waiting out the read', async () => {
    const name = `reconnected-reader-${randomUUID()}`;
    const { consumer, handled } = await consumerBehindProxy({ blockMs: 5_000, connectionName: name });
    const first = await publishOrders(1);
    await vi.waitFor(() => expect(handled).toEqual(first), { timeout: 5_000 });
    const blockedReader = () => blockedConnection(redis, name, 'xreadgroup');
    await vi.waitFor(async () => expect(await blockedReader()).toBeDefined(), { timeout: 5_000 });
    const before = await blockedReader();
    // Its read is cut; the connection comes back and sends the read again.
    await redis.client('KILL', 'ID', before!);
    await vi.waitFor(
      async () => {
        const now = await blockedReader();
        expect(now).toBeDefined();
        expect(now).not.toBe(before);
      },
      { timeout: 5_000 },
    );

    const startedAt = Date.now();
    await consumer.stop();
    expect(Date.now() - startedAt).toBeLessThan(2_500);
  });

  it('when stopped in the middle of a batch, then the batch finishes and is acked, and the member leaves the group', async () => {
    await publishOrders(3);
    const inKitchen = deferred();
    const release = deferred();
    const handled: Placed[] = [];
    const consumer = await startConsumer(async (messages) => {
      inKitchen.resolve();
      await release.promise;
      handled.push(...messages);
    });
    await inKitchen.promise;

    const stopped = consumer.stop();
    release.resolve();
    await stopped;

    expect(handled).toHaveLength(3);
    expect(await pendingCount(redis, key, group)).toBe(0);
    expect(await redis.xinfo('CONSUMERS', key, group)).toEqual([]);
  });

  it('when stopped while waiting for messages, then later messages stay for the group', async () => {
    const handled: Placed[] = [];
    const consumer = await startConsumer(async (messages) => {
      handled.push(...messages);
    }, { blockMs: 10_000 });
    await consumer.stop();

    await publishOrders(2);
    expect(handled).toEqual([]);
    expect(await groupInfo(redis, key, group)).toMatchObject({ pending: 0, 'last-delivered-id': '0-0', lag: 2 });
  });
});
