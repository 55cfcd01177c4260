import type { Redis } from 'ioredis';
import type { StreamName } from '@free-lunch/contracts';
import { streamKey } from './keys.js';

/** How far one consumer group is behind on one stream. */
export interface StreamBacklog {
  stream: StreamName;
  group: string;
  /** Entries the group has not read yet. */
  lag: number;
  /** Entries read but not yet acknowledged (in hand, failed, or held by a dead member). */
  pending: number;
}

/** Backlog per stream and group (XINFO GROUPS lag + pending) in one pipeline, for /metrics gauges. */
export async function streamBacklog(
  redis: Redis,
  prefix: string,
  streams: Array<{ stream: StreamName; group: string }>,
): Promise<StreamBacklog[]> {
  const keys = [...new Set(streams.map(({ stream }) => streamKey(prefix, stream)))];
  const pipeline = redis.pipeline();
  for (const key of keys) pipeline.xinfo('GROUPS', key).xlen(key);
  const replies = (await pipeline.exec()) ?? [];

  const groupsByKey = new Map<string, { groups: Array<Record<string, unknown>>; length: number }>();
  keys.forEach((key, index) => {
    const [infoError, info] = replies[2 * index]!;
    const [lengthError, length] = replies[2 * index + 1]!;
    // A stream that does not exist yet ("no such key") simply has no backlog.
    if (infoError && !/no such key/i.test(infoError.message)) throw infoError;
    if (lengthError) throw lengthError;
    groupsByKey.set(key, { groups: ((info ?? []) as unknown[][]).map(pairsToRecord), length: length as number });
  });

  return streams.map(({ stream, group }) => {
    const { groups, length } = groupsByKey.get(streamKey(prefix, stream))!;
    const info = groups.find((candidate) => candidate.name === group);
    if (!info) return { stream, group, lag: 0, pending: 0 };
    // Redis cannot count the lag once entries the group never read were trimmed away; then every
    // entry left in the stream is unread, so the stream's length is the lag.
    const lag = info.lag === null || info.lag === undefined ? length : Number(info.lag);
    return { stream, group, lag, pending: Number(info.pending) };
  });
}

/** XINFO replies are flat `[name, value, …]` lists. */
function pairsToRecord(pairs: unknown[]): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (let i = 0; i + 1 < pairs.length; i += 2) record[String(pairs[i])] = pairs[i + 1];
  return record;
}
