import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { provisionRedisUsers, removeRedisUsers } from '@free-lunch/service-kit';
import { testEnv } from '@free-lunch/service-kit/testing';
import {
  deadLetterKey,
  dropDeadLetters,
  listDeadLetters,
  redriveDeadLetters,
  StreamPublisher,
  streamKey,
  type StreamConsumer,
} from '../src/index.js';
import { addPoisonLetter, brokenKitchen, failure, group, stream, untilDeadLettered } from './dead-letter-fixtures.js';
import { isolatedPrefix, orderPlaced, pendingCount, redisClient } from './helpers.js';

describe('dead-letter administration', () => {
  let redis: Redis;
  let keys: ReturnType<typeof isolatedPrefix>;
  let publisher: StreamPublisher;
  let consumer: StreamConsumer<typeof stream> | null;

  beforeEach(() => {
    redis = redisClient();
    keys = isolatedPrefix();
    publisher = new StreamPublisher(redis, { prefix: keys.prefix });
    consumer = null;
  });

  afterEach(async () => {
    await consumer?.stop();
    await keys.cleanUp(redis);
    await redis.quit();
  });

  it('when a consumer dead-letters a message, then it is listed with its reason, and re-driven once fixed it is handled exactly once', async () => {
    const kitchen = await brokenKitchen(redis, keys.prefix);
    consumer = kitchen.consumer;
    const order = orderPlaced();
    const originalId = await publisher.publish(stream, order);
    await untilDeadLettered(redis, keys.prefix, 1);

    const listings = await listDeadLetters(redis, keys.prefix);
    expect(listings.map(({ stream: name, count }) => [name, count])).toEqual(
      Object.values(streamNames).map((name) => [name, name === stream ? 1 : 0]),
    );
    const [letter] = listings.find(({ stream: name }) => name === stream)!.letters;
    expect(letter).toMatchObject({
      letter: { stream, group, messageId: originalId, reason: failure, deliveries: 2 },
      summary: { type: 'order.placed', version: 1, orderId: order.orderId },
      problem: null,
    });

    kitchen.broken = false;
    const outcomes = await redriveDeadLetters(redis, keys.prefix, { stream, ids: [letter!.id, letter!.id] });

    expect(outcomes).toEqual([
      expect.objectContaining({ id: letter!.id, outcome: 'redriven', messageId: originalId, newId: expect.any(String) }),
    ]);
    await vi.waitFor(() => expect(kitchen.handled).toEqual([order.orderId]), { timeout: 10_000 });
    expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(0);
    // Nothing of it left to deliver again: the re-driven entry is acknowledged, the original was dead-lettered.
    await vi.waitFor(async () => expect(await pendingCount(redis, streamKey(keys.prefix, stream), group)).toBe(0));
    expect(kitchen.handled).toEqual([order.orderId]);
  });

  it('when every letter is re-driven with all, then they go back in their order, and running it again re-drives none', async () => {
    const kitchen = await brokenKitchen(redis, keys.prefix);
    consumer = kitchen.consumer;
    const orders = [orderPlaced(), orderPlaced(), orderPlaced()];
    for (const order of orders) await publisher.publish(stream, order);
    await untilDeadLettered(redis, keys.prefix, 3);
    await consumer.stop();

    const first = await redriveDeadLetters(redis, keys.prefix, { stream, ids: 'all' });
    const again = await redriveDeadLetters(redis, keys.prefix, { stream, ids: 'all' });

    expect(first.map(({ outcome }) => outcome)).toEqual(['redriven', 'redriven', 'redriven']);
    expect(again).toEqual([]);
    const entries = await redis.xrange(streamKey(keys.prefix, stream), '-', '+');
    const redriven = entries.filter(([id]) => first.some(({ newId }) => newId === id));
    expect(redriven.map(([, fields]) => JSON.parse(fields[1]!).orderId)).toEqual(
      [...first].map(({ summary }) => summary!.orderId),
    );
    expect(new Set(first.map(({ summary }) => summary!.orderId))).toEqual(new Set(orders.map(({ orderId }) => orderId)));
    expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(0);
  });

  it('when two runs re-drive the same letter at once, then only one of them puts it back', async () => {
    await publisher.publishDeadLetters([
      { stream, group, messageId: '1-0', fields: { m: JSON.stringify(orderPlaced()) }, reason: failure, deliveries: 5, at: new Date().toISOString() },
    ]);
    const [listing] = await listDeadLetters(redis, keys.prefix, { streams: [stream] });
    const [letter] = listing!.letters;
    const other = redisClient();
    try {
      const runs = await Promise.all([
        redriveDeadLetters(redis, keys.prefix, { stream, ids: [letter!.id] }),
        redriveDeadLetters(other, keys.prefix, { stream, ids: [letter!.id] }),
      ]);

      expect(runs.flat().map(({ outcome }) => outcome).sort()).toEqual(['not-found', 'redriven']);
      expect(await redis.xlen(streamKey(keys.prefix, stream))).toBe(1);
    } finally {
      await other.quit();
    }
  });

  it('when a letter is poison, then re-driving refuses it unless forced, and drop deletes it', async () => {
    const poisonId = await addPoisonLetter(redis, keys.prefix, '{"type":"order.placed","version":1,"orderId":"nope"}');

    const [listing] = await listDeadLetters(redis, keys.prefix, { streams: [stream] });
    const refused = await redriveDeadLetters(redis, keys.prefix, { stream, ids: [poisonId] });

    expect(listing!.letters[0]).toMatchObject({ id: poisonId, summary: { type: 'order.placed', orderId: 'nope' }, forcible: true });
    expect(listing!.letters[0]!.problem).toMatch(/^poison: malformed orders\.placed message/);
    expect(refused).toEqual([expect.objectContaining({ outcome: 'refused', detail: expect.stringMatching(/^poison/) })]);
    expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(1);
    expect(await redis.exists(streamKey(keys.prefix, stream))).toBe(0);

    const forced = await redriveDeadLetters(redis, keys.prefix, { stream, ids: [poisonId], force: true });
    expect(forced).toEqual([expect.objectContaining({ outcome: 'redriven', detail: expect.stringMatching(/^poison/) })]);
    expect(await redis.xrange(streamKey(keys.prefix, stream), '-', '+')).toEqual([
      [forced[0]!.newId, ['m', '{"type":"order.placed","version":1,"orderId":"nope"}']],
    ]);

    const againId = await addPoisonLetter(redis, keys.prefix, 'not json');
    expect(await dropDeadLetters(redis, keys.prefix, { stream, ids: [againId, '1-1'] })).toEqual([
      expect.objectContaining({ id: againId, outcome: 'dropped' }),
      expect.objectContaining({ id: '1-1', outcome: 'not-found' }),
    ]);
    expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(0);
  });

  it('when an entry of a dead-letter stream is no dead letter, then it is listed as such and even force cannot re-drive it', async () => {
    const id = (await redis.xadd(deadLetterKey(keys.prefix, stream), '*', 'note', 'written by hand'))!;

    const [listing] = await listDeadLetters(redis, keys.prefix, { streams: [stream] });
    const outcomes = await redriveDeadLetters(redis, keys.prefix, { stream, ids: 'all', force: true });

    expect(listing!.letters).toEqual([expect.objectContaining({ id, letter: null, forcible: false, problem: expect.stringMatching(/not a dead letter/) })]);
    expect(outcomes).toEqual([expect.objectContaining({ id, outcome: 'refused' })]);
    expect(await redis.xlen(deadLetterKey(keys.prefix, stream))).toBe(1);
  });

  it('when it is a dry run, then re-drive and drop say what they would do and change nothing', async () => {
    await publisher.publishDeadLetters([
      { stream, group, messageId: '1-0', fields: { m: JSON.stringify(orderPlaced()) }, reason: failure, deliveries: 5, at: new Date().toISOString() },
    ]);
    await addPoisonLetter(redis, keys.prefix, 'not json');
    const before = await redis.xrange(deadLetterKey(keys.prefix, stream), '-', '+');

    const redrive = await redriveDeadLetters(redis, keys.prefix, { stream, ids: 'all', dryRun: true });
    const drop = await dropDeadLetters(redis, keys.prefix, { stream, ids: 'all', dryRun: true });

    expect(redrive.map(({ outcome }) => outcome)).toEqual(['would-redrive', 'refused']);
    expect(drop.map(({ outcome }) => outcome)).toEqual(['would-drop', 'would-drop']);
    expect(await redis.xrange(deadLetterKey(keys.prefix, stream), '-', '+')).toEqual(before);
    expect(await redis.exists(streamKey(keys.prefix, stream))).toBe(0);
  });

  it('when a limit is given, then the listing keeps the full count and shows the oldest letters only', async () => {
    const letters = Array.from({ length: 5 }, (_, index) => ({
      stream, group, messageId: `${index + 1}-0`, fields: { m: JSON.stringify(orderPlaced()) }, reason: failure, deliveries: 5, at: new Date().toISOString(),
    }));
    await publisher.publishDeadLetters(letters);

    const [limited] = await listDeadLetters(redis, keys.prefix, { streams: [stream], limit: 2 });
    const [countOnly] = await listDeadLetters(redis, keys.prefix, { streams: [stream], limit: 0 });

    expect(limited!.count).toBe(5);
    expect(limited!.letters.map(({ letter }) => letter!.messageId)).toEqual(['1-0', '2-0']);
    expect(countOnly).toMatchObject({ count: 5, letters: [] });
  });

  it('when run as a service\'s Redis user, then it lists what that user may read, says which streams it may not, and re-drives', async () => {
    const order = orderPlaced();
    await publisher.publishDeadLetters([
      { stream, group, messageId: '1-0', fields: { m: JSON.stringify(order) }, reason: failure, deliveries: 5, at: new Date().toISOString() },
    ]);
    // Users of this test alone: another run's users must not be reset under it.
    const userPrefix = `fl-test-${randomBytes(4).toString('hex')}`;
    const urls = await provisionRedisUsers(testEnv.redisUrl, keys.prefix, { userPrefix });
    const kitchenUser = new Redis(urls.kitchen, { maxRetriesPerRequest: 1 });
    try {
      const listings = await listDeadLetters(kitchenUser, keys.prefix);
      const [listing] = listings;
      const outcomes = await redriveDeadLetters(kitchenUser, keys.prefix, { stream, ids: 'all' });

      expect(listing).toMatchObject({ stream, count: 1, refusal: null, letters: [{ summary: { orderId: order.orderId } }] });
      // The streams it consumes, and those it produces (its relay may dead-letter what it publishes).
      expect(listings.filter(({ refusal }) => refusal === null).map(({ stream: name }) => name)).toEqual([
        streamNames.orderPlaced,
        streamNames.ingredientsRequested,
        streamNames.ingredientsDispatched,
        streamNames.orderStatusChanged,
      ]);
      expect(listings.find(({ stream: name }) => name === streamNames.stockChanged)!.refusal).toMatch(/^NOPERM/);
      expect(outcomes).toEqual([expect.objectContaining({ outcome: 'redriven' })]);
      expect(await redis.xlen(streamKey(keys.prefix, stream))).toBe(1);
    } finally {
      kitchenUser.disconnect();
      await removeRedisUsers(testEnv.redisUrl, userPrefix);
    }
  });
});
