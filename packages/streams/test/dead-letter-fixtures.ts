import type { Redis } from 'ioredis';
import { vi } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { deadLetterKey, StreamConsumer, type ConsumedMessage } from '../src/index.js';
import { logger } from './helpers.js';

export const stream = streamNames.orderPlaced;
export const group = 'kitchen';
export const failure = 'kitchen database unreachable';

/**
 * A kitchen that cannot handle anything while `broken` (its handler throws {@link failure}), on a
 * real StreamConsumer that gives up after two deliveries; it records the order ids it handled.
 */
export async function brokenKitchen(redis: Redis, prefix: string) {
  const kitchen = {
    broken: true,
    handled: [] as string[],
    consumer: new StreamConsumer({
      redis,
      prefix,
      stream,
      group,
      consumer: 'kitchen-1',
      logger,
      blockMs: 100,
      claimIdleMs: 100,
      claimIntervalMs: 50,
      maxDeliveries: 2,
      handleBatch: async (messages: Array<ConsumedMessage<typeof stream>>) => {
        if (kitchen.broken) throw new Error(failure);
        kitchen.handled.push(...messages.map(({ message }) => message.orderId));
      },
    }),
  };
  await kitchen.consumer.start();
  return kitchen;
}

/** Waits until the stream's dead-letter stream holds `count` letters. */
export async function untilDeadLettered(redis: Redis, prefix: string, count: number): Promise<void> {
  await vi.waitFor(async () => {
    if ((await redis.xlen(deadLetterKey(prefix, stream))) !== count) throw new Error('not yet dead-lettered');
  }, { timeout: 10_000, interval: 50 });
}

/** Writes an entry straight into the dead-letter stream, as a consumer would for a malformed message. */
export async function addPoisonLetter(redis: Redis, prefix: string, m: string): Promise<string> {
  const letter = {
    stream,
    group,
    messageId: '1-0',
    fields: { m },
    reason: `malformed ${stream} message: garbage`,
    deliveries: 1,
    at: new Date().toISOString(),
  };
  return (await redis.xadd(deadLetterKey(prefix, stream), '*', 'm', JSON.stringify(letter)))!;
}
