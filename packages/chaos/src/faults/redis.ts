import type { Redis } from 'ioredis';
import { streamNames, type StreamName } from '@free-lunch/contracts';
import { deadLetterKey, MESSAGE_FIELD, streamKey } from '@free-lunch/streams';

/** What every poison entry carries, so its dead letter can be told from a real one. */
export const POISON_MARK = 'chaos-poison';

/** The streams read by a consumer group: the ones whose unreadable entries end up as dead letters. */
export const WORK_STREAMS: readonly StreamName[] = [
  streamNames.orderPlaced,
  streamNames.ingredientsRequested,
  streamNames.ingredientsDispatched,
  streamNames.orderStatusChanged,
];

/**
 * Three kinds of garbage per work stream, written straight into it (XADD), as a buggy or hostile
 * producer would: an entry without the message field, one whose message is not JSON, and JSON that is
 * no message of the stream. Each must be dead-lettered once, and nothing else disturbed. Returns how
 * many entries it wrote.
 */
export async function writePoison(redis: Redis, prefix: string): Promise<number> {
  const pipeline = redis.pipeline();
  let written = 0;
  for (const stream of WORK_STREAMS) {
    const key = streamKey(prefix, stream);
    pipeline.xadd(key, '*', POISON_MARK, String(written++));
    pipeline.xadd(key, '*', MESSAGE_FIELD, `${POISON_MARK} ${written++}: not JSON`);
    pipeline.xadd(key, '*', MESSAGE_FIELD, JSON.stringify({ type: POISON_MARK, version: 1, n: written++ }));
  }
  for (const [error] of (await pipeline.exec()) ?? []) if (error) throw error;
  return written;
}

/**
 * Deletes every key under the run's prefix (streams, groups, dead letters, counters), as a Redis
 * restarted empty looks to the services; or, with `flushAll`, everything on the server (FLUSHALL),
 * for a Redis that serves nothing else. Returns how many keys went.
 */
export async function wipe(redis: Redis, prefix: string, { flushAll }: { flushAll: boolean }): Promise<number> {
  if (flushAll) {
    const keys = await redis.dbsize();
    await redis.flushall();
    return keys;
  }
  let deleted = 0;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) deleted += await redis.unlink(...keys);
  } while (cursor !== '0');
  return deleted;
}

/** Closes every connection the services' Redis users hold (CLIENT KILL USER); returns how many. */
export async function cutConnectionsOfUsers(redis: Redis, users: readonly string[]): Promise<number> {
  let killed = 0;
  for (const user of users) killed += Number(await redis.call('CLIENT', 'KILL', 'USER', user));
  return killed;
}

/** Dead letters of every stream: how many, and how many of them are the run's poison. */
export async function countDeadLetters(
  redis: Redis,
  prefix: string,
): Promise<{ total: number; poison: number; byStream: Record<string, number> }> {
  let total = 0;
  let poison = 0;
  const byStream: Record<string, number> = {};
  for (const stream of Object.values(streamNames)) {
    const entries = await redis.xrange(deadLetterKey(prefix, stream), '-', '+');
    if (entries.length === 0) continue;
    byStream[stream] = entries.length;
    total += entries.length;
    poison += entries.filter(([, fields]) => fields.some((value) => value.includes(POISON_MARK))).length;
  }
  return { total, poison, byStream };
}
