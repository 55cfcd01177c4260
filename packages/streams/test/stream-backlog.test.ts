import type { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { StreamPublisher, streamBacklog, streamKey } from '../src/index.js';
import { isolatedPrefix, orderPlaced, redisClient } from './helpers.js';

describe('streamBacklog', () => {
  let redis: Redis;
  let keys: ReturnType<typeof isolatedPrefix>;

  beforeEach(() => {
    redis = redisClient();
    keys = isolatedPrefix();
  });

  afterEach(async () => {
    await keys.cleanUp(redis);
    await redis.quit();
  });

  it('when a group has unread and unacknowledged messages, then the backlog counts both', async () => {
    const key = streamKey(keys.prefix, streamNames.orderPlaced);
    await redis.xgroup('CREATE', key, 'kitchen', '0', 'MKSTREAM');
    const publisher = new StreamPublisher(redis, { prefix: keys.prefix });
    await publisher.publishMany(Array.from({ length: 5 }, () => ({ stream: streamNames.orderPlaced, message: orderPlaced() })));
    await redis.xreadgroup('GROUP', 'kitchen', 'member', 'COUNT', 2, 'STREAMS', key, '>');

    const backlog = await streamBacklog(redis, keys.prefix, [
      { stream: streamNames.orderPlaced, group: 'kitchen' },
      { stream: streamNames.orderPlaced, group: 'nobody' },
      { stream: streamNames.ingredientsRequested, group: 'inventory' },
    ]);

    expect(backlog).toEqual([
      { stream: streamNames.orderPlaced, group: 'kitchen', lag: 3, pending: 2 },
      { stream: streamNames.orderPlaced, group: 'nobody', lag: 0, pending: 0 },
      { stream: streamNames.ingredientsRequested, group: 'inventory', lag: 0, pending: 0 },
    ]);
  });
});
