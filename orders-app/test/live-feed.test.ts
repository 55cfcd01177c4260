import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { deleteTestKeys, eventually, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { StreamPublisher, StreamTail, type StreamsLogger } from '@free-lunch/streams';
import { LiveFeed, type FeedTick } from '../src/live/live-feed.js';
import { statusEvent } from './support/orders-app.js';

const IDLE_TAIL_MS = 100;

const quiet: StreamsLogger = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet };

let redis: Redis;
let feed: LiveFeed;
let publisher: StreamPublisher;
let prefix: string;
beforeEach(async () => {
  prefix = testKeyPrefix();
  redis = new Redis(testEnv.redisUrl);
  publisher = new StreamPublisher(redis, { prefix });
  feed = new LiveFeed({ redis, prefix, logger: quiet, idleTailMs: IDLE_TAIL_MS });
  await feed.start();
});
afterEach(async () => {
  await feed.stop();
  await redis.quit();
  await deleteTestKeys(prefix);
});

function collector() {
  const events: FeedTick['events'][number][] = [];
  return { events, receive: (tick: FeedTick) => events.push(...tick.events) };
}

describe('the live feed', () => {
  it('when no dashboard is open, then it reads nothing; the first subscriber starts the tail and gets what is published after it joined', async () => {
    await publisher.publish(streamNames.orderStatusChanged, statusEvent(randomUUID(), 'cooking', new Date().toISOString()));
    expect(feed.tailing).toBe(false);

    const watcher = collector();
    const unsubscribe = await feed.subscribe(watcher);
    expect(feed.tailing).toBe(true);
    const event = statusEvent(randomUUID(), 'delivered', new Date().toISOString());
    const id = await publisher.publish(streamNames.orderStatusChanged, event);

    await eventually('the event at the watcher', () => expect(watcher.events).toEqual([{ stream: streamNames.orderStatusChanged, id, message: event }]));
    unsubscribe();
  });

  it('when the last subscriber leaves, then the tail keeps reading for the idle time and then stops', async () => {
    const unsubscribe = await feed.subscribe(collector());
    unsubscribe();
    expect(feed.tailing).toBe(true);

    await eventually('the tail to stop', () => expect(feed.tailing).toBe(false), { timeoutMs: 5 * IDLE_TAIL_MS });
  });

  it('when a subscriber comes back within the idle time, then it rejoins the running tail; after the idle time a new tail starts', async () => {
    const tailStarts = vi.spyOn(StreamTail.prototype, 'start');
    const leave = await feed.subscribe(collector());
    leave();
    const second = collector();
    const unsubscribe = await feed.subscribe(second);
    await new Promise((resolve) => setTimeout(resolve, 2 * IDLE_TAIL_MS));

    expect(tailStarts).toHaveBeenCalledTimes(1);
    expect(feed.tailing).toBe(true);
    const event = statusEvent(randomUUID(), 'cooking', new Date().toISOString());
    const id = await publisher.publish(streamNames.orderStatusChanged, event);
    await eventually('the event at the second watcher', () => expect(second.events.map((e) => e.id)).toEqual([id]));

    unsubscribe();
    await eventually('the tail to stop', () => expect(feed.tailing).toBe(false), { timeoutMs: 5 * IDLE_TAIL_MS });
    (await feed.subscribe(collector()))();
    expect(tailStarts).toHaveBeenCalledTimes(2);
    tailStarts.mockRestore();
  });

  it('when the feed is stopped, then subscribing is refused', async () => {
    await feed.stop();
    await expect(feed.subscribe(collector())).rejects.toThrow(/stopped/);
  });
});
