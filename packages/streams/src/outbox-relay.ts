import type pg from 'pg';
import type { DeadLetter } from '@free-lunch/contracts';
import { backoffDelay, OUTAGE_BACKOFF, sleep } from './backoff.js';
import { MESSAGE_FIELD, validateMessage } from './codec.js';
import type { StreamsLogger } from './logger.js';
import { MalformedMessageError } from './malformed-message-error.js';
import { byOutboxId, quoteTable, type OutboxRow, type OutboxRows } from './outbox.js';
import type { OutgoingMessage, StreamPublisher } from './stream-publisher.js';

export interface OutboxRelayOptions {
  pool: pg.Pool;
  /** The outbox table, optionally schema-qualified, e.g. `kitchen.outbox`. */
  table: string;
  publisher: StreamPublisher;
  logger: StreamsLogger;
  /** Most rows published per transaction; default 50 (a row holds up to MAX_MESSAGES_PER_ROW messages). */
  batchSize?: number;
  /**
   * How often to look for rows nobody announced with wake() (another replica's, a crash's); default
   * 1,000 ms. A look that finds none costs one indexed read, not a transaction.
   */
  pollIntervalMs?: number;
}

/** One message of a row, with where it came from for a dead letter. */
interface RowMessage {
  rowId: string;
  /** Position in the row's array; null for a row holding a single message. */
  index: number | null;
  stream: string;
  message: unknown;
}

/**
 * How long after their publication rows handed to `publishCommitted` are deleted, gathered: one
 * statement per this much time instead of a transaction per commit.
 */
const DELETE_GATHER_MS = 100;
/** After a deletion failed, how long before trying again (the rows stay held meanwhile). */
const DELETE_RETRY_MS = 1_000;
/**
 * The poll (a look nobody asked for) leaves alone rows younger than this: they are most likely
 * published already by the process that committed them and waiting for their gathered deletion.
 */
const POLL_MIN_AGE_MS = 1_000;

/**
 * Publishes committed outbox rows to their streams. Two ways, both at least once:
 *
 * - **Directly** (`publishCommitted`): the code that committed rows hands them over and they are
 *   published at once, in the order handed over, without a transaction of the relay's own; their
 *   deletion follows, gathered ({@link DELETE_GATHER_MS}, asynchronous commit: a lost delete only
 *   publishes again). Such rows are held in memory until deleted, and this relay's own reads skip
 *   them. If publishing fails they are released to the second way.
 * - **By reading the table**, oldest first, taking and deleting rows in one transaction that
 *   commits only once they are published: on `wake()`, at start, after a failure, and on the poll
 *   every `pollIntervalMs` (rows a crash left between commit and publication, or whose publication
 *   failed). Rows are locked with SKIP LOCKED, so several replicas relay side by side without
 *   publishing a row twice; the poll skips rows younger than {@link POLL_MIN_AGE_MS}, which another
 *   replica most likely published directly and is about to delete. If Redis is down the
 *   transaction rolls back: rows stay, nothing is lost, and the relay retries with backoff.
 *
 * A crash between publishing and deleting publishes a row again, which consumers absorb.
 */
export class OutboxRelay {
  private readonly pool: pg.Pool;
  private readonly tableName: string;
  /** The table name quoted for SQL. */
  private readonly table: string;
  private readonly publisher: StreamPublisher;
  private readonly logger: StreamsLogger;
  private readonly batchSize: number;
  private readonly pollIntervalMs: number;
  private readonly stopping = new AbortController();
  /** Batches run one after another, so this relay publishes its rows in id order. */
  private queue: Promise<unknown> = Promise.resolve();
  private loop: Promise<void> | null = null;
  private wakeRequested = false;
  private endIdle: (() => void) | null = null;
  /** Rows handed to publishCommitted and not deleted yet (published, or about to be): ids this relay's reads skip. */
  private readonly held = new Set<string>();
  /** Rows handed to publishCommitted, not published yet, in the order handed over. */
  private direct: OutboxRow[] = [];
  /** Publishing `direct`, while it runs. */
  private draining: Promise<void> | null = null;
  /** Ids published directly, waiting for their gathered deletion. */
  private toDelete: string[] = [];
  private deleteTimer: NodeJS.Timeout | null = null;
  private deleting: Promise<void> | null = null;

  constructor(options: OutboxRelayOptions) {
    this.pool = options.pool;
    this.tableName = options.table;
    this.table = quoteTable(options.table);
    this.publisher = options.publisher;
    this.logger = options.logger.child({ outbox: options.table });
    this.batchSize = options.batchSize ?? 50;
    this.pollIntervalMs = options.pollIntervalMs ?? 1_000;
  }

  /** Starts relaying in the background: at once, then on every wake() and poll. */
  start(): void {
    if (this.loop) throw new Error(`outbox relay for ${this.tableName} is already started`);
    this.loop = this.run();
  }

  /** Call after committing a transaction that enqueued: publishes now instead of at the next poll. */
  wake(): void {
    this.wakeRequested = true;
    this.endIdle?.();
  }

  /**
   * Publishes rows that `enqueueOutbox` inserted, now: call it once their transaction has committed
   * (never before: a rollback would have published what never happened). Does not wait; if
   * publishing fails, the rows stay in the table for the relay's own reads.
   */
  publishCommitted(rows: OutboxRows): void {
    if (rows.length === 0) return;
    for (const row of rows) this.held.add(row.id);
    this.direct.push(...rows);
    this.draining ??= this.drainDirect().finally(() => {
      this.draining = null;
    });
  }

  /**
   * Publishes every row committed so far and deletes every row published, now; returns how many
   * messages its own reads published. Throws if Redis or PostgreSQL fails.
   */
  async flush(): Promise<number> {
    await this.draining;
    await this.deletePublished();
    return this.serialized(async () => {
      let total = 0;
      for (;;) {
        const { rows, messages } = await this.relayBatch(0);
        total += messages;
        if (rows < this.batchSize) return total;
      }
    });
  }

  /**
   * Stops the background loop once its current batch is done, after publishing the rows handed
   * over and deleting those published (if it can). Rows left behind wait for the next relay.
   */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.endIdle?.();
    await this.loop;
    await this.draining;
    await this.deletePublished().catch((error: unknown) => {
      this.logger.warn({ err: error, rows: this.toDelete.length }, 'deleting published outbox rows failed; the next relay publishes them again');
    });
  }

  /** Publishes the rows handed over, in order, a batch at a time, then schedules their deletion. */
  private async drainDirect(): Promise<void> {
    while (this.direct.length > 0) {
      const rows = this.direct.splice(0, this.batchSize);
      try {
        await this.serialized(() => this.publish(rows.flatMap(rowMessages)));
      } catch (error) {
        // Released to the relay's own reads (which back off while Redis is down), with any handed
        // over behind them: publishing them here first would put them out of order.
        const released = [...rows, ...this.direct.splice(0)];
        for (const row of released) this.held.delete(row.id);
        this.logger.warn({ err: error, rows: released.length }, 'publishing committed outbox rows failed; they are kept and relayed later');
        this.wake();
        return;
      }
      this.toDelete.push(...rows.map((row) => row.id));
      this.deleteTimer ??= setTimeout(() => void this.deletePublished().catch(() => undefined), DELETE_GATHER_MS);
    }
  }

  /**
   * Deletes the rows published directly so far, in one statement; on failure they stay held (this
   * relay never publishes them again) and the deletion is tried again later.
   */
  private async deletePublished(): Promise<void> {
    if (this.deleteTimer) clearTimeout(this.deleteTimer);
    this.deleteTimer = null;
    await this.deleting;
    const ids = this.toDelete.splice(0);
    if (ids.length === 0) return;
    this.deleting = this.deleteRows(ids).finally(() => {
      this.deleting = null;
    });
    await this.deleting;
  }

  private async deleteRows(ids: string[]): Promise<void> {
    try {
      // One round trip, one implicit transaction: a lost delete only publishes the rows again, so
      // the commit need not wait for the WAL to reach disk. Ids are PostgreSQL's own bigserials.
      const list = ids.filter((id) => /^\d+$/.test(id)).join(',');
      await this.pool.query(`SET LOCAL synchronous_commit TO off; DELETE FROM ${this.table} WHERE id = ANY('{${list}}'::int8[])`);
      for (const id of ids) this.held.delete(id);
    } catch (error) {
      this.toDelete.unshift(...ids);
      if (!this.stopping.signal.aborted) {
        this.deleteTimer ??= setTimeout(() => void this.deletePublished().catch(() => undefined), DELETE_RETRY_MS);
      }
      this.logger.warn({ err: error, rows: ids.length }, 'deleting published outbox rows failed; retrying');
      throw error;
    }
  }

  private async run(): Promise<void> {
    let outages = 0;
    // At start, on the poll and after a failure rows may be waiting that nobody announced; the young
    // ones are left alone, being most likely published directly. wake() takes every row.
    let minAgeMs = POLL_MIN_AGE_MS;
    while (!this.stopping.signal.aborted) {
      if (this.wakeRequested) minAgeMs = 0;
      this.wakeRequested = false;
      let published: number;
      try {
        const age = minAgeMs;
        published = age === 0 || (await this.anyRows()) ? (await this.serialized(() => this.relayBatch(age))).rows : 0;
        outages = 0;
      } catch (error) {
        outages += 1;
        const delayMs = backoffDelay(outages, OUTAGE_BACKOFF);
        // wake() does not cut this short: every new order would otherwise retry against a down Redis.
        this.logger.error({ err: error, retryInMs: delayMs }, 'relaying the outbox failed; rows are kept, retrying');
        await sleep(delayMs, this.stopping.signal);
        minAgeMs = POLL_MIN_AGE_MS;
        continue;
      }
      // A full batch means more rows are likely waiting: the next goes at once, with the same age.
      if (published < this.batchSize) minAgeMs = (await this.idle()) ? 0 : POLL_MIN_AGE_MS;
    }
  }

  /** Whether any row old enough for the poll is waiting, locked or not: its cheap look before it takes a transaction. */
  private async anyRows(): Promise<boolean> {
    const { rowCount } = await this.pool.query({
      name: `outbox-any:${this.tableName}`,
      text: `SELECT 1 FROM ${this.table} WHERE created_at <= now() - make_interval(secs => $1::float8 / 1000) LIMIT 1`,
      values: [POLL_MIN_AGE_MS],
    });
    return (rowCount ?? 0) > 0;
  }

  private serialized<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Waits for a wake() (resolves true) or the next poll (false). */
  private idle(): Promise<boolean> {
    if (this.wakeRequested || this.stopping.signal.aborted) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.endIdle = null;
        resolve(false);
      }, this.pollIntervalMs);
      this.endIdle = () => {
        clearTimeout(timer);
        this.endIdle = null;
        resolve(true);
      };
    });
  }

  /**
   * One transaction: take the oldest unlocked rows at least `minAgeMs` old and not held, publish
   * them, commit their deletion. Returns how many of each.
   */
  private async relayBatch(minAgeMs: number): Promise<{ rows: number; messages: number }> {
    const client = await this.pool.connect();
    let brokenConnection: Error | undefined;
    try {
      // The only write here is deleting rows already published. If a crash loses that delete, the
      // rows are published again, which consumers absorb; so the commit need not wait for the WAL
      // to reach disk, and the relay keeps up without a disk flush per batch.
      await client.query('BEGIN; SET LOCAL synchronous_commit TO off');
      // Taken and deleted in one statement: nothing is gone unless the transaction commits, and it
      // commits only once every row is published. Prepared once per connection (named), as every
      // relay runs it many times a second.
      const { rows } = await client.query<OutboxRow>({
        name: `outbox-take:${this.tableName}`,
        text: `DELETE FROM ${this.table}
                WHERE id IN (SELECT id FROM ${this.table}
                              WHERE id <> ALL($2::int8[]) AND created_at <= now() - make_interval(secs => $3::float8 / 1000)
                              ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING id, stream, message`,
        values: [this.batchSize, [...this.held], minAgeMs],
      });
      // RETURNING follows no particular order; publication follows the ids.
      rows.sort((a, b) => byOutboxId(a.id, b.id));
      const messages = rows.flatMap(rowMessages);
      if (messages.length > 0) await this.publish(messages);
      await client.query('COMMIT');
      if (rows.length > 0) this.logger.debug({ rows: rows.length, messages: messages.length }, 'published outbox rows');
      return { rows: rows.length, messages: messages.length };
    } catch (error) {
      await client.query('ROLLBACK').catch((rollbackError: Error) => {
        brokenConnection = rollbackError;
      });
      throw error;
    } finally {
      // A connection that could not even roll back is dropped rather than returned to the pool.
      client.release(brokenConnection);
    }
  }

  /**
   * Messages were validated when enqueued, so an invalid one means the contract changed under it.
   * It goes to its stream's dead letter instead of blocking every message behind it forever.
   */
  private async publish(messages: RowMessage[]): Promise<void> {
    const toOutgoing = (entry: RowMessage) => ({ stream: entry.stream, message: entry.message }) as OutgoingMessage;
    try {
      await this.publisher.publishMany(messages.map(toOutgoing));
      return;
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
    }
    const valid: RowMessage[] = [];
    const invalid: DeadLetter[] = [];
    const at = new Date().toISOString();
    for (const entry of messages) {
      try {
        validateMessage(entry.stream as OutgoingMessage['stream'], entry.message);
        valid.push(entry);
      } catch (error) {
        if (!(error instanceof MalformedMessageError)) throw error;
        invalid.push({
          stream: entry.stream,
          group: this.tableName,
          messageId: entry.index === null ? `outbox-${entry.rowId}` : `outbox-${entry.rowId}-${entry.index}`,
          fields: { [MESSAGE_FIELD]: JSON.stringify(entry.message) },
          reason: error.message,
          deliveries: 0,
          at,
        });
      }
    }
    await this.publisher.publishMany(valid.map(toOutgoing));
    await this.publisher.publishDeadLetters(invalid);
    const deadLettered = invalid.map(({ messageId, reason }) => ({ messageId, reason }));
    this.logger.error({ messages: deadLettered }, 'dead-lettered outbox messages that no longer match their contract');
  }
}

/** A row's messages in order: rows written before rows held arrays carry a single message. */
function rowMessages(row: OutboxRow): RowMessage[] {
  if (!Array.isArray(row.message)) return [{ rowId: row.id, index: null, stream: row.stream, message: row.message }];
  return row.message.map((message: unknown, index) => ({ rowId: row.id, index, stream: row.stream, message }));
}
