import { randomUUID } from 'node:crypto';
import { Redis, type RedisOptions } from 'ioredis';
import { pino, type Logger } from 'pino';
import { afterEach, beforeEach } from 'vitest';
import type { DeadLetter, OrderPlacedV1, OrderStatusChangedV1, StreamName } from '@free-lunch/contracts';
import { deleteTestKeys, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { StreamPublisher, streamKey } from '../src/index.js';

/** Quiet unless TEST_LOG_LEVEL asks otherwise (e.g. `TEST_LOG_LEVEL=debug` when a test misbehaves). */
export const logger: Logger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

export function orderPlaced(orderId: string = randomUUID()): OrderPlacedV1 {
  return { type: 'order.placed', version: 1, orderId, placedAt: new Date().toISOString() };
}

export function orderCooking(orderId: string = randomUUID()): OrderStatusChangedV1 {
  return { type: 'order.status-changed', version: 1, orderId, status: 'cooking', recipe: 'pizza', at: new Date().toISOString() };
}

export function redisClient(options: RedisOptions = {}): Redis {
  return new Redis(testEnv.redisUrl, { maxRetriesPerRequest: 3, ...options });
}

/**
 * A key prefix of this test's own, and a way to remove every key under it afterwards: the Redis is
 * shared with every other test running in parallel, so it is never flushed.
 */
export function isolatedPrefix(): { prefix: string; cleanUp(redis: Redis): Promise<void> } {
  const prefix = testKeyPrefix();
  return {
    prefix,
    cleanUp: (redis) => deleteTestKeys(prefix, redis),
  };
}

/** What each test of one stream gets afresh: see {@link useStreamTest}. */
export interface StreamTest {
  redis: Redis;
  prefix: string;
  /** The stream's Redis key under `prefix`. */
  key: string;
  publisher: StreamPublisher;
  /** Runs `cleanUp` after the test, before its keys are deleted (last registered, first run). */
  defer(cleanUp: () => Promise<unknown>): void;
}

/**
 * Registers the hooks every test of `stream` shares: before each, a Redis connection, a key prefix
 * of its own and a publisher; after each, what the test deferred (consumers stopped, say), then its
 * keys deleted and the connection closed.
 */
export function useStreamTest(stream: StreamName): StreamTest {
  const cleanUps: Array<() => Promise<unknown>> = [];
  const test = { defer: (cleanUp: () => Promise<unknown>) => void cleanUps.push(cleanUp) } as StreamTest;
  beforeEach(() => {
    test.redis = redisClient();
    test.prefix = testKeyPrefix();
    test.key = streamKey(test.prefix, stream);
    test.publisher = new StreamPublisher(test.redis, { prefix: test.prefix });
  });
  afterEach(async () => {
    for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
    await deleteTestKeys(test.prefix, test.redis);
    await test.redis.quit();
  });
  return test;
}

/** The dead letters written for a stream, oldest first. */
export async function readDeadLetters(redis: Redis, key: string): Promise<DeadLetter[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([, fields]) => JSON.parse(fields[1]!) as DeadLetter);
}

/** The messages in a stream, oldest first. */
export async function readMessages(redis: Redis, key: string): Promise<Array<{ id: string; message: { orderId: string } }>> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([id, fields]) => ({ id, message: JSON.parse(fields[1]!) }));
}

/** How many entries of the group are read but not acknowledged. */
export async function pendingCount(redis: Redis, key: string, group: string): Promise<number> {
  const [count] = (await redis.xpending(key, group)) as [number, ...unknown[]];
  return count;
}

/** A consumer group's XINFO GROUPS entry as an object (`pending`, `last-delivered-id`, `lag`, …). */
export async function groupInfo(redis: Redis, key: string, group: string): Promise<Record<string, unknown> | undefined> {
  const groups = (await redis.xinfo('GROUPS', key)) as unknown[][];
  const records = groups.map((pairs) => {
    const record: Record<string, unknown> = {};
    for (let i = 0; i + 1 < pairs.length; i += 2) record[String(pairs[i])] = pairs[i + 1];
    return record;
  });
  return records.find((record) => record.name === group);
}

/** A promise settled from outside, to hold a handler mid-batch. */
export function deferred(): { promise: Promise<void>; resolve(): void } {
  let resolve!: () => void;
  const promise = new Promise<void>((settle) => {
    resolve = settle;
  });
  return { promise, resolve };
}

/**
 * The id of the connection named `name` while it is blocked in `command` (e.g. `xreadgroup`), from
 * CLIENT LIST; undefined while there is none. Other tests' connections are told apart by the name.
 */
export async function blockedConnection(redis: Redis, name: string, command: string): Promise<string | undefined> {
  const clients = (await redis.client('LIST')) as string;
  return clients
    .split('\n')
    .find((line) => line.includes(` name=${name} `) && line.includes(` cmd=${command} `) && / flags=\w*b/.test(line))
    ?.match(/^id=(\d+)/)?.[1];
}
