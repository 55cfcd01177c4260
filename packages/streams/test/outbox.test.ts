import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames } from '@free-lunch/contracts';
import { createTestDatabase, eventually, RedisProxy, type TestDatabase } from '@free-lunch/service-kit/testing';
import {
  deadLetterKey,
  enqueueOutbox,
  MalformedMessageError,
  OUTBOX_ROWS_COLUMN,
  OUTBOX_TABLE_SQL,
  outboxInsertClause,
  OutboxRelay,
  prepareOutbox,
  StreamPublisher,
  streamKey,
  type OutboxRelayOptions,
  type KeyedMessage,
  type OutboxRows,
  type OutgoingMessage,
} from '../src/index.js';
import { isolatedPrefix, logger, orderCooking, orderPlaced, readDeadLetters, readMessages, redisClient } from './helpers.js';

const table = 'kitchen.outbox';

describe('transactional outbox', () => {
  let database: TestDatabase;
  let pool: pg.Pool;
  let redis: Redis;
  let keys: ReturnType<typeof isolatedPrefix>;
  let publisher: StreamPublisher;
  const cleanups: Array<() => Promise<unknown>> = [];

  beforeEach(async () => {
    database = await createTestDatabase();
    pool = new pg.Pool({ connectionString: database.url, max: 6 });
    // As a service's first migration would: the table lands in the schema on the search path.
    await pool.query(`CREATE SCHEMA kitchen; SET search_path TO kitchen; ${OUTBOX_TABLE_SQL}`);
    redis = redisClient();
    keys = isolatedPrefix();
    publisher = new StreamPublisher(redis, { prefix: keys.prefix });
  });

  afterEach(async () => {
    for (const cleanUp of cleanups.splice(0).reverse()) await cleanUp();
    await pool.end();
    await database.drop();
    await keys.cleanUp(redis);
    await redis.quit();
  });

  function relay(options: Partial<OutboxRelayOptions> = {}): OutboxRelay {
    const outboxRelay = new OutboxRelay({ pool, table, publisher, logger, ...options });
    cleanups.push(() => outboxRelay.stop());
    return outboxRelay;
  }

  /** A publisher whose Redis connection goes through a proxy the test can unplug and plug in again. */
  async function publisherBehindProxy(): Promise<{ proxy: RedisProxy; publisher: StreamPublisher }> {
    const proxy = await RedisProxy.start();
    const unreliable = proxy.client({ maxRetriesPerRequest: 1, retryStrategy: () => 50 });
    unreliable.on('error', () => undefined); // the outage is the point of the tests that use it
    cleanups.push(async () => {
      unreliable.disconnect();
      await proxy.unplug();
    });
    return { proxy, publisher: new StreamPublisher(unreliable, { prefix: keys.prefix }) };
  }

  /** Enqueues in a transaction of its own and commits, as a use case would. */
  async function commitOutbox(entries: OutgoingMessage[]): Promise<OutboxRows> {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const rows = await enqueueOutbox(client, table, entries);
      await client.query('COMMIT');
      return rows;
    } finally {
      client.release();
    }
  }

  /** Messages still waiting in the outbox (a row holds one message or an array of them). */
  async function rowsLeft(): Promise<number> {
    const { rows } = await pool.query<{ count: number }>(
      `SELECT coalesce(sum(CASE WHEN jsonb_typeof(message) = 'array' THEN jsonb_array_length(message) ELSE 1 END), 0)::int AS count
         FROM ${table}`,
    );
    return rows[0]!.count;
  }

  async function rowCount(): Promise<number> {
    const { rows } = await pool.query<{ count: number }>(`SELECT count(*)::int AS count FROM ${table}`);
    return rows[0]!.count;
  }

  const placedKey = () => streamKey(keys.prefix, streamNames.orderPlaced);
  const placedEntries = (count: number): OutgoingMessage[] =>
    Array.from({ length: count }, () => ({ stream: streamNames.orderPlaced, message: orderPlaced() }));

  it('when the transaction that enqueued rolls back, then nothing is published', async () => {
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      await enqueueOutbox(client, table, placedEntries(3));
      await client.query('ROLLBACK');
    } finally {
      client.release();
    }

    expect(await relay().flush()).toBe(0);
    expect(await rowsLeft()).toBe(0);
    expect(await redis.exists(placedKey())).toBe(0);
  });

  it('when one entry is invalid, then enqueueOutbox inserts none of them', async () => {
    const entries = [...placedEntries(2), { stream: streamNames.orderPlaced, message: { ...orderPlaced(), orderId: 42 } } as never];
    await expect(commitOutbox(entries)).rejects.toThrow(MalformedMessageError);
    expect(await rowsLeft()).toBe(0);
  });

  it('when rows are committed, then the relay publishes them in order, to their streams, and deletes them', async () => {
    const entries: OutgoingMessage[] = Array.from({ length: 2_500 }, (_, index) =>
      index % 5 === 0
        ? { stream: streamNames.orderStatusChanged, message: orderCooking() }
        : { stream: streamNames.orderPlaced, message: orderPlaced() },
    );
    // Several transactions, and batches of a few rows, so the flush takes many batches.
    for (let start = 0; start < entries.length; start += 500) await commitOutbox(entries.slice(start, start + 500));

    expect(await relay({ batchSize: 3 }).flush()).toBe(2_500);

    const published = (stream: string) => entries.filter((entry) => entry.stream === stream).map((entry) => entry.message);
    expect((await readMessages(redis, placedKey())).map((entry) => entry.message)).toEqual(published(streamNames.orderPlaced));
    expect(
      (await readMessages(redis, streamKey(keys.prefix, streamNames.orderStatusChanged))).map((entry) => entry.message),
    ).toEqual(published(streamNames.orderStatusChanged));
    expect(await rowsLeft()).toBe(0);
  });

  it('when woken after a commit, then the running relay publishes without waiting for its next poll', async () => {
    const outboxRelay = relay({ pollIntervalMs: 60_000 });
    outboxRelay.start();
    const entries = placedEntries(3);
    await commitOutbox(entries);

    outboxRelay.wake();

    await eventually('three entries on the stream', async () => expect(await redis.xlen(placedKey())).toBe(3), { timeoutMs: 5_000 });
    expect((await readMessages(redis, placedKey())).map((entry) => entry.message)).toEqual(entries.map((entry) => entry.message));
    await eventually('the relay to empty the outbox', async () => expect(await rowsLeft()).toBe(0));
  });

  it('when committed rows are handed over, then they are published at once, in order, and deleted without the relay reading the table', async () => {
    const outboxRelay = relay({ pollIntervalMs: 60_000 });
    outboxRelay.start();
    await eventually('the first pass at start to end', async () => expect(await rowCount()).toBe(0));
    const entries = [...placedEntries(250), { stream: streamNames.orderStatusChanged, message: orderCooking() } as OutgoingMessage];
    const first = await commitOutbox(entries.slice(0, 120));
    const second = await commitOutbox(entries.slice(120));

    outboxRelay.publishCommitted(first);
    outboxRelay.publishCommitted(second);

    await eventually('250 entries on the stream', async () => expect(await redis.xlen(placedKey())).toBe(250), { timeoutMs: 5_000 });
    expect((await readMessages(redis, placedKey())).map((entry) => entry.message)).toEqual(entries.slice(0, 250).map((entry) => entry.message));
    expect(await redis.xlen(streamKey(keys.prefix, streamNames.orderStatusChanged))).toBe(1);
    await eventually('the published rows to be deleted', async () => expect(await rowCount()).toBe(0), { timeoutMs: 5_000 });
  });

  it('when Redis is unreachable as committed rows are handed over, then they stay in the table and the relay publishes them once Redis is back', async () => {
    const { proxy, publisher: unreliable } = await publisherBehindProxy();
    const outboxRelay = relay({ publisher: unreliable, pollIntervalMs: 100 });
    await proxy.unplug();
    const entries = placedEntries(3);
    outboxRelay.publishCommitted(await commitOutbox(entries));
    await expect(outboxRelay.flush()).rejects.toThrow();
    expect(await rowsLeft()).toBe(3);

    outboxRelay.start();
    await proxy.plugIn();

    await eventually('the relay to empty the outbox once Redis is back', async () => expect(await rowsLeft()).toBe(0), { timeoutMs: 15_000 });
    expect((await readMessages(redis, placedKey())).map((entry) => entry.message)).toEqual(entries.map((entry) => entry.message));
  });

  it('when one relay publishes its rows directly while another polls the table, then each row is published once', async () => {
    const writer = relay({ pollIntervalMs: 60_000 });
    const poller = relay({ pollIntervalMs: 20 });
    writer.start();
    poller.start();
    const entries = placedEntries(600);

    for (let start = 0; start < entries.length; start += 10) {
      writer.publishCommitted(await commitOutbox(entries.slice(start, start + 10)));
      await sleep(5);
    }

    await eventually('the published rows to be deleted', async () => expect(await rowCount()).toBe(0), { timeoutMs: 10_000 });
    const orderIds = (await readMessages(redis, placedKey())).map((entry) => entry.message.orderId);
    expect(orderIds).toEqual(entries.map((entry) => (entry.message as { orderId: string }).orderId));
  });

  it('when rows nobody announced are committed (another replica, a crash), then the running relay publishes them at its next poll', async () => {
    const outboxRelay = relay({ pollIntervalMs: 100 });
    outboxRelay.start();
    // Past its first pass at start, so only a poll can find the rows.
    await sleep(250);
    const entries = placedEntries(2);
    await commitOutbox(entries);

    await eventually('two entries on the stream', async () => expect(await redis.xlen(placedKey())).toBe(2), { timeoutMs: 5_000 });
    await eventually('the relay to empty the outbox', async () => expect(await rowsLeft()).toBe(0));
  });

  it('when Redis is unreachable, then the relay keeps the rows and publishes them once Redis is back', async () => {
    const { proxy, publisher: unreliable } = await publisherBehindProxy();
    const outboxRelay = relay({ publisher: unreliable });
    await proxy.unplug();
    const entries = placedEntries(3);
    await commitOutbox(entries);

    await expect(outboxRelay.flush()).rejects.toThrow();
    expect(await rowsLeft()).toBe(3);
    expect(await redis.exists(placedKey())).toBe(0);

    outboxRelay.start();
    await proxy.plugIn();

    await eventually('the relay to empty the outbox once Redis is back', async () => expect(await rowsLeft()).toBe(0), { timeoutMs: 15_000 });
    expect((await readMessages(redis, placedKey())).map((entry) => entry.message)).toEqual(entries.map((entry) => entry.message));
  });

  it('when a transaction enqueues many messages, then it writes one row per stream and hundred messages, and each message is still an entry of its own', async () => {
    const entries: OutgoingMessage[] = [
      ...placedEntries(300),
      ...Array.from({ length: 200 }, () => ({ stream: streamNames.orderStatusChanged, message: orderCooking() })),
    ];
    await commitOutbox(entries);

    expect(await rowCount()).toBe(3 + 2);
    expect(await relay().flush()).toBe(500);
    expect(await redis.xlen(placedKey())).toBe(300);
    expect(await redis.xlen(streamKey(keys.prefix, streamNames.orderStatusChanged))).toBe(200);
  });

  describe('in a statement of its own', () => {
    /** A table of orders to move on, and one statement that moves those still waiting and announces only those. */
    async function moveWaiting(orderIds: string[], messages: KeyedMessage[]): Promise<{ moved: string[]; outbox: OutboxRows }> {
      const outbox = prepareOutbox(messages);
      const { rows } = await pool.query<{ moved: string[] | null; outbox: unknown }>(
        `WITH moved AS (
           UPDATE kitchen.waiting SET moved = true WHERE id = ANY($1::uuid[]) AND NOT moved RETURNING id
         ), ${outboxInsertClause(table, '$2', (key) => `${key}::uuid IN (SELECT id FROM moved)`)}
         SELECT (SELECT array_agg(id::text) FROM moved) AS moved, ${OUTBOX_ROWS_COLUMN}`,
        [orderIds, outbox.param],
      );
      const moved = rows[0]!.moved ?? [];
      return { moved, outbox: outbox.written(rows[0]!.outbox, (key) => moved.includes(key)) };
    }

    const idsOf = (count: number) => Array.from({ length: count }, () => randomUUID());
    const placedKeyed = (ids: string[]): KeyedMessage[] =>
      ids.map((id) => ({ stream: streamNames.orderPlaced, message: orderPlaced(id), key: id }));

    beforeEach(async () => {
      await pool.query('CREATE TABLE kitchen.waiting (id uuid PRIMARY KEY, moved boolean NOT NULL DEFAULT false)');
    });

    it('when a statement changes some rows, then only their messages are written, in rows of up to a hundred per stream, and the relay publishes them in order', async () => {
      const ids = idsOf(250);
      const entries = placedKeyed(ids);
      await pool.query('INSERT INTO kitchen.waiting (id, moved) SELECT id, n % 5 = 0 FROM unnest($1::uuid[]) WITH ORDINALITY AS w(id, n)', [ids]);
      const stillWaiting = entries.filter((_, index) => (index + 1) % 5 !== 0);
      const cooking: KeyedMessage = { stream: streamNames.orderStatusChanged, message: orderCooking(ids[0]), key: ids[0]! };

      const { moved, outbox } = await moveWaiting(ids, [...entries, cooking]);

      expect(moved).toHaveLength(200);
      expect(outbox.map((row) => [row.stream, (row.message as unknown[]).length])).toEqual([
        [streamNames.orderPlaced, 80],
        [streamNames.orderPlaced, 80],
        [streamNames.orderPlaced, 40],
        [streamNames.orderStatusChanged, 1],
      ]);
      expect(await rowCount()).toBe(4);
      const outboxRelay = relay({ pollIntervalMs: 60_000 });
      outboxRelay.publishCommitted(outbox);
      await eventually('200 entries on the stream', async () => expect(await redis.xlen(placedKey())).toBe(200), { timeoutMs: 5_000 });
      expect((await readMessages(redis, placedKey())).map((entry) => entry.message)).toEqual(stillWaiting.map((entry) => entry.message));
      expect(await redis.xlen(streamKey(keys.prefix, streamNames.orderStatusChanged))).toBe(1);
      await eventually('the published rows to be deleted', async () => expect(await rowCount()).toBe(0), { timeoutMs: 5_000 });
    });

    it('when the statement changes every row, then each outbox row holds a hundred messages, as the statement handed them over', async () => {
      const ids = idsOf(150);
      await pool.query('INSERT INTO kitchen.waiting (id) SELECT unnest($1::uuid[])', [ids]);

      const { outbox } = await moveWaiting(ids, placedKeyed(ids));

      expect(outbox.map((row) => (row.message as unknown[]).length)).toEqual([100, 50]);
      const { rows } = await pool.query<{ message: unknown[] }>(`SELECT message FROM ${table} ORDER BY id`);
      expect(rows.map((row) => row.message)).toEqual(outbox.map((row) => row.message));
    });

    it('when the statement changes nothing, then it writes no outbox row', async () => {
      const ids = idsOf(3);
      await pool.query('INSERT INTO kitchen.waiting (id, moved) SELECT id, true FROM unnest($1::uuid[]) AS id', [ids]);

      expect(await moveWaiting(ids, placedKeyed(ids))).toEqual({ moved: [], outbox: [] });
      expect(await rowCount()).toBe(0);
    });

    it('when one message is invalid, then nothing is written and nothing changes', async () => {
      const ids = idsOf(2);
      await pool.query('INSERT INTO kitchen.waiting (id) SELECT unnest($1::uuid[])', [ids]);
      const [valid, invalid] = placedKeyed(ids) as [KeyedMessage, KeyedMessage];
      const wrongVersion = { ...invalid, message: { ...invalid.message, version: 99 } } as unknown as KeyedMessage;

      await expect(moveWaiting(ids, [valid, wrongVersion])).rejects.toBeInstanceOf(MalformedMessageError);
      const { rows } = await pool.query<{ moved: number }>('SELECT count(*) FILTER (WHERE moved)::int AS moved FROM kitchen.waiting');
      expect(rows[0]!.moved).toBe(0);
      expect(await rowCount()).toBe(0);
    });
  });

  it('when rows hold one message each, as earlier versions wrote them, then they are published just the same', async () => {
    const [first, second] = [orderPlaced(), orderPlaced()];
    for (const message of [first, second]) {
      await pool.query(`INSERT INTO ${table} (stream, message) VALUES ($1, $2)`, [streamNames.orderPlaced, JSON.stringify(message)]);
    }
    const [third] = placedEntries(1);
    await commitOutbox([third!]);

    expect(await relay().flush()).toBe(3);
    expect((await readMessages(redis, placedKey())).map((entry) => entry.message)).toEqual([first, second, third!.message]);
    expect(await rowsLeft()).toBe(0);
  });

  it('when two relays run at once, then each row is published exactly once', async () => {
    const entries = placedEntries(3_000);
    // Many transactions, so there are many rows for the two relays to share.
    for (let start = 0; start < entries.length; start += 10) await commitOutbox(entries.slice(start, start + 10));
    const first = relay({ batchSize: 7 });
    const second = relay({ batchSize: 7 });

    const [byFirst, bySecond] = await Promise.all([first.flush(), second.flush()]);

    expect(byFirst + bySecond).toBe(3_000);
    const orderIds = (await readMessages(redis, placedKey())).map((entry) => entry.message.orderId);
    expect(orderIds).toHaveLength(3_000);
    expect(new Set(orderIds)).toEqual(new Set(entries.map((entry) => (entry.message as { orderId: string }).orderId)));
    expect(await rowsLeft()).toBe(0);
  });

  it('when a message no longer matches its contract, then it is dead-lettered and the messages around it are still published', async () => {
    const [before, beside, after] = [orderPlaced(), orderPlaced(), orderPlaced()];
    await commitOutbox([{ stream: streamNames.orderPlaced, message: before }]);
    // A row of three whose middle message an older contract would have accepted.
    await pool.query(`INSERT INTO ${table} (stream, message) VALUES ($1, $2)`, [
      streamNames.orderPlaced,
      JSON.stringify([beside, { type: 'order.placed', version: 0 }, after]),
    ]);

    expect(await relay().flush()).toBe(4);

    expect((await readMessages(redis, placedKey())).map((entry) => entry.message)).toEqual([before, beside, after]);
    const [letter] = await readDeadLetters(redis, deadLetterKey(keys.prefix, streamNames.orderPlaced));
    expect(letter).toMatchObject({ stream: streamNames.orderPlaced, group: table, deliveries: 0, messageId: expect.stringMatching(/^outbox-\d+-1$/) });
    expect(letter!.reason).toMatch(/version/);
    expect(await rowsLeft()).toBe(0);
  });
});
