import type { Redis } from 'ioredis';
import { DeadLetter, type StreamName } from '@free-lunch/contracts';
import { MESSAGE_FIELD } from './codec.js';
import { deadLetterKey } from './keys.js';

/**
 * Dead-letter streams are trimmed (approximately) to this many entries, so a flood of poison
 * messages cannot exhaust Redis memory; far more than anyone will inspect by hand.
 */
export const DEAD_LETTER_MAX_LENGTH = 100_000;

/** The XADD arguments after the key for one dead letter: trimming, id and the `m` field. */
export function deadLetterArgs(letter: DeadLetter): Array<string | number> {
  return ['MAXLEN', '~', DEAD_LETTER_MAX_LENGTH, '*', MESSAGE_FIELD, JSON.stringify(DeadLetter.parse(letter))];
}

/** How many dead letters a stream's dead-letter stream holds. */
export interface DeadLetterCount {
  stream: StreamName;
  count: number;
}

/**
 * The length of each stream's dead-letter stream (XLEN, 0 when there is none), in one pipeline:
 * what is waiting for someone to look at it, whichever process dead-lettered it.
 */
export async function deadLetterCounts(redis: Redis, prefix: string, streams: StreamName[]): Promise<DeadLetterCount[]> {
  const pipeline = redis.pipeline();
  for (const stream of streams) pipeline.xlen(deadLetterKey(prefix, stream));
  const replies = (await pipeline.exec()) ?? [];
  return streams.map((stream, index) => {
    const [error, count] = replies[index] ?? [new Error('no reply')];
    if (error) throw error;
    return { stream, count: Number(count) };
  });
}
