import type pg from 'pg';
import type { DeadLetter } from '@free-lunch/contracts';
import { backoffDelay, OUTAGE_BACKOFF, sleep } from './backoff.js';
import { MESSAGE_FIELD, validateMessage } from './codec.js';
import type { StreamsLogger } from './logger.js';
import { MalformedMessageError } from './malformed-message-error.js';
import { quoteTable } from './outbox.js';
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

interface OutboxRow {
  id: string;
  stream: string;
  /** One message, or (as enqueueOutbox writes them) an array of messages for the same stream. */
  message: unknown;
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
 * Publishes committed outbox rows to their streams, oldest first, and deletes them in the same
 * transaction. Rows are locked with SKIP LOCKED, so several replicas relay side by side without
 * publishing a row twice. If Redis is down the transaction rolls back: rows stay, nothing is lost,
 * and the relay retries with backoff. A crash between publishing and committing publishes a row
 * again, which consumers absorb (delivery is at least once).
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

  /** Publishes every row committed so far, now; returns how many messages. Throws if Redis or PostgreSQL fails. */
  flush(): Promise<number> {
    return this.serialized(async () => {
      let total = 0;
      for (;;) {
        const { rows, messages } = await this.relayBatch();
        total += messages;
        if (rows < this.batchSize) return total;
      }
    });
  }

  /** Stops the background loop once its current batch is done. Rows left behind wait for the next relay. */
  async stop(): Promise<void> {
    this.stopping.abort();
    this.endIdle?.();
    await this.loop;
  }

  private async run(): Promise<void> {
    let outages = 0;
    // At start, as after a failure: rows may be waiting that no wake() announced.
    let woken = true;
    while (!this.stopping.signal.aborted) {
      const announced = woken || this.wakeRequested;
      this.wakeRequested = false;
      let published: number;
      try {
        published = announced || (await this.anyRows()) ? (await this.serialized(() => this.relayBatch())).rows : 0;
        outages = 0;
      } catch (error) {
        outages += 1;
        const delayMs = backoffDelay(outages, OUTAGE_BACKOFF);
        // wake() does not cut this short: every new order would otherwise retry against a down Redis.
        this.logger.error({ err: error, retryInMs: delayMs }, 'relaying the outbox failed; rows are kept, retrying');
        await sleep(delayMs, this.stopping.signal);
        woken = true;
        continue;
      }
      // A full batch means more rows are likely waiting.
      woken = published >= this.batchSize || (await this.idle());
    }
  }

  /** Whether any row is waiting, locked or not: the poll's cheap look before it takes a transaction. */
  private async anyRows(): Promise<boolean> {
    const { rowCount } = await this.pool.query({ name: `outbox-any:${this.tableName}`, text: `SELECT 1 FROM ${this.table} LIMIT 1` });
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

  /** One transaction: take the oldest unlocked rows, publish them, commit their deletion. Returns how many of each. */
  private async relayBatch(): Promise<{ rows: number; messages: number }> {
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
                WHERE id IN (SELECT id FROM ${this.table} ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED)
            RETURNING id, stream, message`,
        values: [this.batchSize],
      });
      // RETURNING follows no particular order; publication follows the ids.
      rows.sort(byId);
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

/** Outbox ids are bigserial, read as decimal strings: the shorter is the smaller. */
function byId(a: OutboxRow, b: OutboxRow): number {
  return a.id.length - b.id.length || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
