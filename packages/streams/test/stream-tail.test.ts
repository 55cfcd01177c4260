import { randomUUID } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, onTestFinished } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { eventually, RedisProxy } from '@free-lunch/service-kit/testing';
import { StreamPublisher, StreamTail, streamKey, type TailEntry } from '../src/index.js';
import { blockedConnection, isolatedPrefix, logger, orderCooking, orderPlaced, redisClient } from './helpers.js';

describe('StreamTail', () => {
  let redis: Redis;
  let keys: ReturnType<typeof isolatedPrefix>;
  let publisher: StreamPublisher;
  const tails: StreamTail[] = [];

  beforeEach(() => {
    redis = redisClient();
    keys = isolatedPrefix();
    publisher = new StreamPublisher(redis, { prefix: keys.prefix });
  });

  afterEach(async () => {
    for (const tail of tails.splice(0)) await tail.stop();
    await keys.cleanUp(redis);
    await redis.quit();
  });

  async function startTail(from?: Record<string, string> | '$'): Promise<TailEntry[]> {
    const seen: TailEntry[] = [];
    const tail = new StreamTail({
      redis,
      prefix: keys.prefix,
      streams: [streamNames.orderPlaced, streamNames.orderStatusChanged],
      from,
      onEntries: (entries) => seen.push(...entries),
      logger,
      blockMs: 100,
    });
    await tail.start();
    tails.push(tail);
    return seen;
  }

  it('when tailing from now, then every entry added afterwards on any stream is passed on, and none from before', async () => {
    await publisher.publish(streamNames.orderPlaced, orderPlaced());
    const seen = await startTail();

    const placed = orderPlaced();
    const cooking = orderCooking();
    const later = orderPlaced();
    await publisher.publish(streamNames.orderPlaced, placed);
    await publisher.publish(streamNames.orderStatusChanged, cooking);
    await publisher.publish(streamNames.orderPlaced, later);

    await eventually('three entries passed on', () => expect(seen).toHaveLength(3), { timeoutMs: 5_000 });
    const byStream = (stream: string) => seen.filter((entry) => entry.stream === stream).map((entry) => entry.message);
    expect(byStream(streamNames.orderPlaced)).toEqual([placed, later]);
    expect(byStream(streamNames.orderStatusChanged)).toEqual([cooking]);
  });

  it('when resuming from an entry id, then the entries after it are passed on without a gap', async () => {
    const messages = Array.from({ length: 5 }, () => orderPlaced());
    const ids = await publisher.publishMany(messages.map((message) => ({ stream: streamNames.orderPlaced, message })));

    const seen = await startTail({ [streamNames.orderPlaced]: ids[1]! });

    await eventually('the entries after the resumed one', () => expect(seen).toHaveLength(3), { timeoutMs: 5_000 });
    expect(seen.map(({ id, message }) => ({ id, message }))).toEqual(
      ids.slice(2).map((id, index) => ({ id, message: messages[index + 2] })),
    );
  });

  it('when an entry is malformed, then the tail skips it and carries on', async () => {
    const seen = await startTail();
    await redis.xadd(streamKey(keys.prefix, streamNames.orderPlaced), '*', 'm', '{broken');
    const good = orderPlaced();
    await publisher.publish(streamNames.orderPlaced, good);

    await eventually('the good entry passed on', () => expect(seen.map((entry) => entry.message)).toEqual([good]), { timeoutMs: 5_000 });
  });
  it('when stopped while its connection hangs half-way through reconnecting, then stop() still returns', async () => {
    const proxy = await RedisProxy.start();
    const name = `stalled-tail-${randomUUID()}`;
    const proxied = proxy.client({ retryStrategy: () => 50, connectionName: name });
    proxied.on('error', () => undefined);
    onTestFinished(async () => {
      proxied.disconnect();
      await proxy.unplug();
    });
    const tail = new StreamTail({
      redis: proxied,
      prefix: keys.prefix,
      streams: [streamNames.orderPlaced],
      onEntries: () => undefined,
      logger,
      blockMs: 5_000,
    });
    await tail.start();
    await eventually('the tail blocked in XREAD', async () => expect(await blockedConnection(redis, name, 'xread')).toBeDefined(), { timeoutMs: 5_000 });
    // The blocked read's connection is cut; it reconnects into a Redis that never answers, holding the read.
    proxy.stallNewConnections();
    await redis.client('KILL', 'ID', (await blockedConnection(redis, name, 'xread'))!);
    await delay(300);

    const stopped = await Promise.race([tail.stop().then(() => 'stopped'), delay(3_000).then(() => 'still stopping')]);
    expect(stopped).toBe('stopped');
  });
});
