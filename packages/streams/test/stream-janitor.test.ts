import { setTimeout as delay } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { StreamConsumer, StreamJanitor, StreamPublisher, streamKey } from '../src/index.js';
import { groupInfo, logger, orderPlaced, pendingCount, useStreamTest } from './helpers.js';

const stream = streamNames.orderPlaced;

describe('StreamJanitor', () => {
  const t = useStreamTest(stream);

  function janitor(retentionMs: number, prefix = t.prefix): StreamJanitor {
    return new StreamJanitor({ redis: t.redis, prefix, streams: [stream], retentionMs, logger });
  }

  /** Publishes `count` orders; answers their entry ids, oldest first. */
  async function publishOrders(count: number): Promise<string[]> {
    return t.publisher.publishMany(Array.from({ length: count }, () => ({ stream, message: orderPlaced() })));
  }

  /** Reads up to `count` new entries for `member` of `group`; answers their ids. */
  async function read(group: string, member: string, count: number): Promise<string[]> {
    const reply = (await t.redis.xreadgroup('GROUP', group, member, 'COUNT', count, 'STREAMS', t.key, '>')) as
      | Array<[string, Array<[string, string[]]>]>
      | null;
    return (reply?.[0]?.[1] ?? []).map(([id]) => id);
  }

  async function idsInStream(): Promise<string[]> {
    return (await t.redis.xrange(t.key, '-', '+')).map(([id]) => id);
  }

  it('when a slow member holds entries unacknowledged, then trimming with no retention keeps them and drops only what came before', async () => {
    await t.redis.xgroup('CREATE', t.key, 'kitchen', '0', 'MKSTREAM');
    const ids = await publishOrders(30);
    const inHand = await read('kitchen', 'slow', 20);
    await t.redis.xack(t.key, 'kitchen', ...inHand.slice(0, 10));

    expect(await janitor(0).trim()).toEqual({ [stream]: 10 });

    expect(await idsInStream()).toEqual(ids.slice(10));
    // The slow member's ten are still whole, so another member can claim and handle them.
    const [, claimed] = (await t.redis.xautoclaim(t.key, 'kitchen', 'other', 0, '0-0')) as [string, Array<[string, string[] | null]>];
    expect(claimed.map(([id]) => id)).toEqual(ids.slice(10, 20));
    expect(claimed.every(([, fields]) => fields !== null)).toBe(true);
    expect(await read('kitchen', 'other', 100)).toEqual(ids.slice(20));
  });

  it('when a group has not been handed entries yet, then trimming with no retention keeps every one of them', async () => {
    await t.redis.xgroup('CREATE', t.key, 'kitchen', '0', 'MKSTREAM');
    await t.redis.xgroup('CREATE', t.key, 'audit', '0');
    const ids = await publishOrders(30);
    await t.redis.xack(t.key, 'kitchen', ...(await read('kitchen', 'quick', 30)));
    // The audit group has read and acknowledged the first 12; the other 18 were never delivered to it.
    await t.redis.xack(t.key, 'audit', ...(await read('audit', 'auditor', 12)));

    await janitor(0).trim();

    // Its last delivered entry is kept too: trimming stops at it rather than just after it.
    expect(await idsInStream()).toEqual(ids.slice(11));
    expect(await read('audit', 'auditor', 100)).toEqual(ids.slice(12));
    expect((await groupInfo(t.redis, t.key, 'audit'))?.lag).toBe(0);
  });

  it('when every group has acknowledged entries younger than the retention, then they stay', async () => {
    await t.redis.xgroup('CREATE', t.key, 'kitchen', '0', 'MKSTREAM');
    const old = await publishOrders(5);
    await delay(50);
    const young = await publishOrders(5);
    await t.redis.xack(t.key, 'kitchen', ...(await read('kitchen', 'quick', 10)));
    const youngestOldAt = Number(old.at(-1)!.split('-')[0]);

    await janitor(1_000).trim(youngestOldAt + 1_001);

    expect(await idsInStream()).toEqual(young);
  });

  it('when a stream has no group yet, then nothing is trimmed: a group created from 0 reads every entry', async () => {
    const ids = await publishOrders(10);

    // A minute from now, every entry is well past the retention.
    expect(await janitor(0).trim(Date.now() + 60_000)).toEqual({ [stream]: 0 });

    await t.redis.xgroup('CREATE', t.key, 'kitchen', '0');
    expect(await read('kitchen', 'late', 100)).toEqual(ids);
  });

  it('when several janitors trim the same stream at once, then each entry is trimmed once and nothing unfinished goes', async () => {
    await t.redis.xgroup('CREATE', t.key, 'kitchen', '0', 'MKSTREAM');
    const ids = await publishOrders(100);
    await t.redis.xack(t.key, 'kitchen', ...(await read('kitchen', 'quick', 60)));

    const rounds = await Promise.all([janitor(0).trim(), janitor(0).trim(), janitor(0).trim()]);

    expect(rounds.reduce((sum, round) => sum + round[stream]!, 0)).toBe(59);
    expect(await idsInStream()).toEqual(ids.slice(59));
  });

  it('when thousands of orders flow through publish, consume and ack, then the stream and its memory level off instead of growing', async () => {
    const rounds = 20;
    const perRound = 500;

    /** Runs every round through a real consumer; after each, the janitor (if any) trims. Answers the lengths seen after each round and the memory at the end. */
    async function run(prefix: string, trimming: StreamJanitor | null) {
      const streamKeyOfRun = streamKey(prefix, stream);
      const consumer = new StreamConsumer({
        redis: t.redis,
        prefix,
        stream,
        group: 'kitchen',
        consumer: 'cook',
        handleBatch: async () => undefined,
        logger,
        blockMs: 50,
      });
      await consumer.start();
      t.defer(() => consumer.stop());
      const runPublisher = new StreamPublisher(t.redis, { prefix });
      const lengths: number[] = [];
      for (let round = 0; round < rounds; round += 1) {
        await runPublisher.publishMany(Array.from({ length: perRound }, () => ({ stream, message: orderPlaced() })));
        await eventually('the round to be read and acknowledged', async () => {
          expect((await groupInfo(t.redis, streamKeyOfRun, 'kitchen'))?.lag).toBe(0);
          expect(await pendingCount(t.redis, streamKeyOfRun, 'kitchen')).toBe(0);
        });
        await trimming?.trim();
        lengths.push(await t.redis.xlen(streamKeyOfRun));
        // By the next trim, this round is older than the janitor's 100 ms retention.
        await delay(120);
      }
      await consumer.stop();
      const memory = Number(await t.redis.call('MEMORY', 'USAGE', streamKeyOfRun, 'SAMPLES', '0'));
      return { lengths, memory };
    }

    const trimmed = await run(t.prefix, janitor(100));
    const untrimmed = await run(`${t.prefix}untrimmed:`, null);

    // With the janitor: at most the latest round (younger than the retention) and the last delivered entry.
    expect(Math.max(...trimmed.lengths)).toBeLessThanOrEqual(perRound + 1);
    // Memory at the end is what one round takes, not twenty.
    const oneRound = untrimmed.memory / rounds;
    expect(trimmed.memory).toBeLessThan(3 * oneRound);
    // Without it, the stream holds every order that ever went through.
    expect(untrimmed.lengths.at(-1)).toBe(rounds * perRound);
    expect(untrimmed.memory).toBeGreaterThan(10 * trimmed.memory);
  });
});

