import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { isTransientDatabaseError } from '@free-lunch/service-kit';
import {
  deadLetterKey,
  encodeMessage,
  StreamConsumer,
  StreamPublisher,
  streamKey,
  type ConsumedMessage,
  type StreamConsumerOptions,
} from '../src/index.js';
import { memberKey } from '../src/member-liveness.js';
import { blockedConnection, deferred, groupInfo, isolatedPrefix, logger, orderPlaced, pendingCount, redisClient } from './helpers.js';

const stream = streamNames.orderPlaced;
const group = 'kitchen';
type Placed = ConsumedMessage<typeof stream>;

/** What pg throws when PostgreSQL does not take the connection: the kit classifies it as transient. */
function connectionRefused(): Error {
  return Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { errno: -111, code: 'ECONNREFUSED', syscall: 'connect' });
}

describe('StreamConsumer recovery: dead members, slow members, PostgreSQL away, Redis losing the group', () => {
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

  async function startConsumer(
    name: string,
    handleBatch: (messages: Placed[]) => Promise<void>,
    options: Partial<StreamConsumerOptions<typeof stream>> = {},
  ): Promise<StreamConsumer<typeof stream>> {
    const consumer = new StreamConsumer({
      redis,
      prefix: keys.prefix,
      stream,
      group,
      consumer: name,
      handleBatch,
      logger,
      blockMs: 100,
      claimIntervalMs: 100,
      ...options,
    });
    await consumer.start();
    cleanups.push(() => consumer.stop());
    return consumer;
  }

  async function publishOrders(count: number): Promise<string[]> {
    const messages = Array.from({ length: count }, () => orderPlaced());
    await publisher.publishMany(messages.map((message) => ({ stream, message })));
    return messages.map((message) => message.orderId);
  }

  it('when a member dies holding a batch, then its messages are reclaimed as soon as its liveness key lapses, long before claimIdleMs', async () => {
    const orderIds = await publishOrders(4);
    // The member that will die: it read a batch and said it was alive, for 1.5 s more.
    await redis.xgroup('CREATE', key, group, '0');
    await redis.xreadgroup('GROUP', group, 'doomed', 'COUNT', 10, 'STREAMS', key, '>');
    await redis.set(memberKey(keys.prefix, stream, group, 'doomed'), '1', 'PX', 1_500);

    const handled: Placed[] = [];
    await startConsumer('survivor', async (messages) => void handled.push(...messages), { claimIdleMs: 60_000 });

    // While its key lives, the member counts as alive: its work is left to it.
    await delay(800);
    expect(handled).toEqual([]);
    // Gone silent: its messages are taken over within a few claim passes of the key lapsing.
    await vi.waitFor(() => expect(handled).toHaveLength(4), { timeout: 5_000, interval: 50 });
    expect(handled.map((m) => m.message.orderId)).toEqual(orderIds);
    expect(handled.every((m) => m.deliveries === 2)).toBe(true);
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
  });

  it('when a living member is slow with its batch, then the others leave its work alone, even past claimIdleMs', async () => {
    const slowBatch = deferred();
    const bySlow: Placed[] = [];
    const byOther: Placed[] = [];
    await startConsumer(
      'slow',
      async (messages) => {
        bySlow.push(...messages);
        if (bySlow.length === messages.length) await slowBatch.promise; // only the first batch is slow
      },
      { claimIdleMs: 600, livenessTtlMs: 300 },
    );
    const orderIds = await publishOrders(3);
    await vi.waitFor(() => expect(bySlow).toHaveLength(3));
    await startConsumer('other', async (messages) => void byOther.push(...messages), { claimIdleMs: 600, livenessTtlMs: 300 });

    // Four times claimIdleMs: the slow member keeps its liveness key and touches its batch meanwhile.
    await delay(2_400);
    slowBatch.resolve();
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
    expect(byOther).toEqual([]);
    expect(bySlow.map((m) => m.message.orderId)).toEqual(orderIds);
    expect(bySlow.every((m) => m.deliveries === 1)).toBe(true);
  });

  it('when a member\'s reading connection is cut, then entries Redis handed it that it never saw are taken back at once, not after claimIdleMs', async () => {
    const connectionName = `own-pending-${randomUUID()}`;
    const own = redisClient({ connectionName });
    cleanups.push(async () => own.quit());
    const handled: Placed[] = [];
    await startConsumer('cut-off', async (messages) => void handled.push(...messages), { redis: own, claimIdleMs: 60_000 });
    // Entries Redis delivered to this member whose reply never reached it (as a read cut off with its
    // connection): pending on it, a living member, so nobody else would take them for a minute.
    const orderIds = await publishOrders(3);
    await vi.waitFor(() => expect(handled).toHaveLength(3));
    // Appended and read in one transaction, so the member's own blocked read cannot get them first,
    // then moved to the member.
    const lost = [orderPlaced(), orderPlaced()];
    const appended = redis.multi();
    for (const message of lost) appended.xadd(key, '*', ...encodeMessage(stream, message));
    await appended.xreadgroup('GROUP', group, 'somebody', 'COUNT', 10, 'STREAMS', key, '>').exec();
    const ids = (await redis.xpending(key, group, '-', '+', 10, 'somebody')) as Array<[string, ...unknown[]]>;
    await redis.xclaim(key, group, 'cut-off', 0, ...ids.map(([id]) => id), 'JUSTID');
    await delay(300);
    expect(handled).toHaveLength(3);

    const id = await vi.waitFor(async () => {
      const blocked = await blockedConnection(redis, connectionName, 'xreadgroup');
      expect(blocked).toBeDefined();
      return blocked!;
    });
    await redis.client('KILL', 'ID', id);

    await vi.waitFor(() => expect(handled).toHaveLength(5), { timeout: 5_000, interval: 50 });
    expect(handled.map((m) => m.message.orderId)).toEqual([...orderIds, ...lost.map((message) => message.orderId)]);
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
  });

  it('when more entries than a batch were handed to a member whose read was cut, then each is handled once, batch by batch, and none is dead-lettered', async () => {
    const connectionName = `own-pending-${randomUUID()}`;
    const own = redisClient({ connectionName });
    cleanups.push(async () => own.quit());
    const handled: Placed[] = [];
    await startConsumer('cut-off', async (messages) => void handled.push(...messages), { redis: own, claimIdleMs: 60_000, batchSize: 2 });
    await publishOrders(1);
    await vi.waitFor(() => expect(handled).toHaveLength(1));
    // Five entries Redis handed this member that never reached it, as in the test above: two and a
    // half batches of its own pending list to take back.
    const lost = Array.from({ length: 5 }, () => orderPlaced());
    const appended = redis.multi();
    for (const message of lost) appended.xadd(key, '*', ...encodeMessage(stream, message));
    await appended.xreadgroup('GROUP', group, 'somebody', 'COUNT', 10, 'STREAMS', key, '>').exec();
    const ids = (await redis.xpending(key, group, '-', '+', 10, 'somebody')) as Array<[string, ...unknown[]]>;
    await redis.xclaim(key, group, 'cut-off', 0, ...ids.map(([id]) => id), 'JUSTID');

    const id = await vi.waitFor(async () => {
      const blocked = await blockedConnection(redis, connectionName, 'xreadgroup');
      expect(blocked).toBeDefined();
      return blocked!;
    });
    await redis.client('KILL', 'ID', id);

    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0), { timeout: 5_000, interval: 50 });
    await delay(300);
    expect(handled.slice(1).map((m) => m.message.orderId)).toEqual(lost.map((message) => message.orderId));
    expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(0);
  });

  it('when a member stops cleanly, then its liveness key is deleted, and it exists while the member runs', async () => {
    const consumer = await startConsumer('clean', async () => {}, { livenessTtlMs: 2_000 });
    const liveness = memberKey(keys.prefix, stream, group, 'clean');
    expect(await redis.pttl(liveness)).toBeGreaterThan(0);
    await delay(2_500); // renewed past its first TTL
    expect(await redis.exists(liveness)).toBe(1);
    await consumer.stop();
    expect(await redis.exists(liveness)).toBe(0);
  });

  it('when PostgreSQL is unreachable for many tries, then the batch is held and retried whole, no delivery is spent and nothing is dead-lettered', async () => {
    const orderIds = await publishOrders(5);
    let down = true;
    const tries: number[] = [];
    const handled: Placed[] = [];
    const byOther: Placed[] = [];
    const options = {
      maxDeliveries: 2,
      claimIdleMs: 450,
      livenessTtlMs: 300,
      transientRetryMaxMs: 20,
      isTransientError: isTransientDatabaseError,
    };
    await startConsumer(
      'paused',
      async (messages) => {
        tries.push(messages.length);
        if (down) throw connectionRefused();
        handled.push(...messages);
      },
      options,
    );
    await vi.waitFor(() => expect(tries.length).toBeGreaterThan(0));
    // Another member, alive and well, does not take the held batch for abandoned.
    await startConsumer('other', async (messages) => void byOther.push(...messages), options);

    await vi.waitFor(() => expect(tries.length).toBeGreaterThanOrEqual(40), { timeout: 10_000, interval: 50 });
    await delay(1_000); // more than twice claimIdleMs with the batch held
    down = false;

    await vi.waitFor(() => expect(handled).toHaveLength(5), { timeout: 5_000 });
    // Always the whole batch: a transient failure is no reason to try the messages one by one.
    expect(new Set(tries)).toEqual(new Set([5]));
    expect(handled.map((m) => m.message.orderId)).toEqual(orderIds);
    expect(handled.every((m) => m.deliveries === 1)).toBe(true);
    expect(byOther).toEqual([]);
    expect(await redis.exists(deadLetterKey(keys.prefix, stream))).toBe(0);
    await vi.waitFor(async () => expect(await pendingCount(redis, key, group)).toBe(0));
  });

  it('when a failure is not transient, then it still counts: the message is dead-lettered after maxDeliveries', async () => {
    const [orderId] = await publishOrders(1);
    await startConsumer(
      'strict',
      async () => {
        throw new Error('null value in column "recipe" violates not-null constraint');
      },
      { maxDeliveries: 2, claimIdleMs: 200, isTransientError: isTransientDatabaseError },
    );
    await vi.waitFor(async () => expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(1), { timeout: 5_000 });
    const [entry] = await redis.xrange(deadLetterKey(keys.prefix, stream), "-", "+");
    const fields = entry![1];
    expect(JSON.parse(JSON.parse(fields[1]!).fields.m).orderId).toBe(orderId);
  });

  it('when the group is missing at start or lost later, then the re-drive hook runs before the group is made again, and is retried until it succeeds', async () => {
    const events: string[] = [];
    let failNext = false;
    const onGroupLost = async () => {
      events.push(`re-drive, group ${(await groupInfo(redis, key, group).catch(() => undefined)) ? 'present' : 'missing'}`);
      if (failNext) {
        failNext = false;
        throw connectionRefused();
      }
    };
    const handled: string[] = [];
    await startConsumer('member', async (messages) => void handled.push(...messages.map((m) => m.message.orderId)), {
      onGroupLost,
    });
    // At start the group did not exist (a first start, or Redis lost it while nobody ran).
    expect(events).toEqual(['re-drive, group present']);

    const before = await publishOrders(2);
    await vi.waitFor(() => expect(handled).toEqual(before), { timeout: 5_000 });

    failNext = true;
    await redis.del(key);
    await vi.waitFor(() => expect(events).toHaveLength(3), { timeout: 10_000 });
    // Lost: re-driven with the group still missing, failed, re-driven again, then the group is made.
    expect(events.slice(1)).toEqual(['re-drive, group missing', 're-drive, group missing']);
    const after = await publishOrders(2);
    await vi.waitFor(() => expect(handled).toEqual([...before, ...after]), { timeout: 10_000 });
    expect(events).toHaveLength(3);
  });

  it('when a member restarts with its group in place, then it does not re-drive', async () => {
    await redis.xgroup('CREATE', key, group, '0', 'MKSTREAM');
    const onGroupLost = vi.fn(async () => {});
    await startConsumer('member', async () => {}, { onGroupLost });
    await delay(300);
    expect(onGroupLost).not.toHaveBeenCalled();
  });
});
