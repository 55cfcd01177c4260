import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames, type StockChangedV1 } from '@free-lunch/contracts';
import { LIVE_STREAM_MAX_LENGTH, MalformedMessageError, StreamPublisher, streamKey } from '../src/index.js';
import { isolatedPrefix, orderCooking, orderPlaced, readMessages, redisClient } from './helpers.js';

describe('StreamPublisher', () => {
  let redis: Redis;
  let keys: ReturnType<typeof isolatedPrefix>;
  let publisher: StreamPublisher;

  beforeEach(() => {
    redis = redisClient();
    keys = isolatedPrefix();
    publisher = new StreamPublisher(redis, { prefix: keys.prefix });
  });

  afterEach(async () => {
    await keys.cleanUp(redis);
    await redis.quit();
  });

  it('when a message is valid, then it is appended under the prefixed stream key and its id returned', async () => {
    const message = orderPlaced();
    const id = await publisher.publish(streamNames.orderPlaced, message);
    expect(await readMessages(redis, streamKey(keys.prefix, streamNames.orderPlaced))).toEqual([{ id, message }]);
  });

  it('when a message is invalid, then publish rejects it and nothing is written', async () => {
    const invalid = { ...orderPlaced(), placedAt: 'yesterday' };
    await expect(publisher.publish(streamNames.orderPlaced, invalid)).rejects.toThrow(MalformedMessageError);
    expect(await redis.exists(streamKey(keys.prefix, streamNames.orderPlaced))).toBe(0);
  });

  it('when many messages go to several streams, then each stream gets its own in order and ids come back in order', async () => {
    const placed = [orderPlaced(), orderPlaced(), orderPlaced()];
    const cooking = [orderCooking(), orderCooking()];
    const ids = await publisher.publishMany([
      { stream: streamNames.orderPlaced, message: placed[0]! },
      { stream: streamNames.orderStatusChanged, message: cooking[0]! },
      { stream: streamNames.orderPlaced, message: placed[1]! },
      { stream: streamNames.orderStatusChanged, message: cooking[1]! },
      { stream: streamNames.orderPlaced, message: placed[2]! },
    ]);
    const placedEntries = await readMessages(redis, streamKey(keys.prefix, streamNames.orderPlaced));
    const cookingEntries = await readMessages(redis, streamKey(keys.prefix, streamNames.orderStatusChanged));
    expect(placedEntries.map((entry) => entry.message)).toEqual(placed);
    expect(cookingEntries.map((entry) => entry.message)).toEqual(cooking);
    expect(ids).toEqual([placedEntries[0]!.id, cookingEntries[0]!.id, placedEntries[1]!.id, cookingEntries[1]!.id, placedEntries[2]!.id]);
  });

  it('when more messages go out at once than one Redis transaction takes, then all are appended in order', async () => {
    const placed = Array.from({ length: 1_234 }, () => orderPlaced());
    const ids = await publisher.publishMany(placed.map((message) => ({ stream: streamNames.orderPlaced, message })));
    const entries = await readMessages(redis, streamKey(keys.prefix, streamNames.orderPlaced));
    expect(entries.map((entry) => entry.message)).toEqual(placed);
    expect(ids).toEqual(entries.map((entry) => entry.id));
  });

  it('when one of many messages is invalid, then publishMany writes none of them', async () => {
    await expect(
      publisher.publishMany([
        { stream: streamNames.orderPlaced, message: orderPlaced() },
        { stream: streamNames.orderPlaced, message: { ...orderPlaced(), version: 9 } as never },
      ]),
    ).rejects.toThrow(MalformedMessageError);
    expect(await redis.exists(streamKey(keys.prefix, streamNames.orderPlaced))).toBe(0);
  });

  it('when Redis has forgotten its scripts (a restart, a failover), then publishMany still appends', async () => {
    await publisher.publishMany([{ stream: streamNames.orderPlaced, message: orderPlaced() }]);
    // The script cache is the server's, not this test's: other clients' next call resends the script
    // too, which is the very behaviour under test, so it disturbs no one.
    await redis.script('FLUSH');
    const later = orderPlaced();
    const [id] = await publisher.publishMany([{ stream: streamNames.orderPlaced, message: later }]);
    const entries = await readMessages(redis, streamKey(keys.prefix, streamNames.orderPlaced));
    expect(entries).toHaveLength(2);
    expect(entries[1]).toEqual({ id, message: later });
  });

  it('when Redis refuses an append, then publishMany rejects with its reason', async () => {
    await redis.set(streamKey(keys.prefix, streamNames.orderStatusChanged), 'not a stream');
    await expect(
      publisher.publishMany([
        { stream: streamNames.orderPlaced, message: orderPlaced() },
        { stream: streamNames.orderStatusChanged, message: orderCooking() },
      ]),
    ).rejects.toThrow(/WRONGTYPE/);
  });

  it('when a stream grows past maxLength, then it is trimmed to about that length', async () => {
    const small = new StreamPublisher(redis, { prefix: keys.prefix, maxLength: 10 });
    const messages = Array.from({ length: 1000 }, () => ({ stream: streamNames.orderPlaced, message: orderPlaced() }));
    await small.publishMany(messages);
    const length = await redis.xlen(streamKey(keys.prefix, streamNames.orderPlaced));
    expect(length).toBeGreaterThanOrEqual(10);
    expect(length).toBeLessThan(1000);
  });

  it('when a stream only the live view reads outgrows its small cap, then it is trimmed to it, while a work stream keeps every entry', async () => {
    const count = LIVE_STREAM_MAX_LENGTH + 2_000;
    const stock = (): StockChangedV1 => ({
      type: 'stock.changed',
      version: 1,
      reason: 'purchase',
      stock: [{ ingredient: 'tomato', onHand: 3 }],
      at: new Date().toISOString(),
    });
    await publisher.publishMany(
      Array.from({ length: count }, () => [
        { stream: streamNames.stockChanged, message: stock() },
        { stream: streamNames.orderPlaced, message: orderPlaced() },
        { stream: streamNames.orderStatusChanged, message: orderCooking() },
      ]).flat(),
    );
    await publisher.publish(streamNames.stockChanged, stock());

    const liveLength = await redis.xlen(streamKey(keys.prefix, streamNames.stockChanged));
    expect(liveLength).toBeGreaterThanOrEqual(LIVE_STREAM_MAX_LENGTH);
    expect(liveLength).toBeLessThan(count);
    // Work streams are trimmed by age, by the StreamJanitor, once their groups are done with them.
    expect(await redis.xlen(streamKey(keys.prefix, streamNames.orderPlaced))).toBe(count);
    expect(await redis.xlen(streamKey(keys.prefix, streamNames.orderStatusChanged))).toBe(count);
  });
});
