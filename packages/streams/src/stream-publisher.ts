import type { DeadLetter, MessageOf, StreamName } from '@free-lunch/contracts';
import type { ChainableCommander, Redis } from 'ioredis';
import { encodeMessage } from './codec.js';
import { deadLetterArgs } from './dead-letter.js';
import { deadLetterKey, streamKey } from './keys.js';
import { collectReplies } from './redis-replies.js';

/** One message bound for one stream; the union keeps each message tied to its stream's type. */
export type OutgoingMessage = { [S in StreamName]: { stream: S; message: MessageOf<S> } }[StreamName];

export interface StreamPublisherOptions {
  /** The deployment's key prefix, e.g. `fl:`. */
  prefix: string;
  /** Streams are trimmed to about this many entries (XADD MAXLEN ~); default 1,000,000. */
  maxLength?: number;
}

/**
 * Most appends in one MULTI/EXEC: as many as a consumer reads at once by default (its batch size),
 * so a large relay batch wakes consumers with full batches without holding Redis for long.
 */
const MAX_ENTRIES_PER_TRANSACTION = 500;

/**
 * Runs a MULTI/EXEC. When Redis refused a command while queueing it, EXEC answers only that the
 * transaction was discarded; the refusal itself becomes the error's cause.
 */
async function execTransaction(transaction: ChainableCommander): Promise<Array<[Error | null, unknown]> | null> {
  try {
    return await transaction.exec();
  } catch (error) {
    const first = (error as { previousErrors?: unknown[] }).previousErrors?.[0];
    if (first instanceof Error) throw new Error(`${(error as Error).message} (${first.message})`, { cause: first });
    throw error;
  }
}

/** Writes validated messages to streams; many at once go out in one round trip per 500. */
export class StreamPublisher {
  private readonly prefix: string;
  private readonly maxLength: number;

  constructor(
    private readonly redis: Redis,
    options: StreamPublisherOptions,
  ) {
    this.prefix = options.prefix;
    this.maxLength = options.maxLength ?? 1_000_000;
  }

  /** Validates and appends one message; returns its entry id. Nothing is written if it is invalid. */
  async publish<S extends StreamName>(stream: S, message: MessageOf<S>): Promise<string> {
    const id = await this.redis.xadd(this.key(stream), ...this.xaddArgs(encodeMessage(stream, message)));
    // XADD only answers null with NOMKSTREAM, which is never sent.
    return id!;
  }

  /**
   * Validates every message first (one invalid → nothing is written), then appends them in one
   * round trip per 500. Returns the entry ids in the order given; throws if any append failed, in
   * which case earlier round trips' entries stay appended (a relay then publishes them again, which
   * consumers absorb: delivery is at least once).
   *
   * The appends go in one MULTI/EXEC, not a bare pipeline: Redis hands new entries to a blocked
   * XREADGROUP after each command it runs, so with a pipeline a waiting consumer would wake on the
   * first entry alone, handle a batch of one, and (with several consumers) another would wake on the
   * second. Inside MULTI/EXEC it wakes once every entry is there and reads them as one batch.
   */
  async publishMany(entries: OutgoingMessage[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const encoded = entries.map(({ stream, message }) => ({
      key: this.key(stream),
      fields: encodeMessage(stream, message as MessageOf<typeof stream>),
    }));
    const ids: string[] = [];
    // In transactions of at most MAX_ENTRIES_PER_TRANSACTION: Redis serves nobody else while it runs one.
    for (let start = 0; start < encoded.length; start += MAX_ENTRIES_PER_TRANSACTION) {
      const transaction = this.redis.multi();
      for (const { key, fields } of encoded.slice(start, start + MAX_ENTRIES_PER_TRANSACTION)) {
        transaction.xadd(key, ...this.xaddArgs(fields));
      }
      ids.push(...(collectReplies(await execTransaction(transaction), 'XADD') as string[]));
    }
    return ids;
  }

  /** Appends dead letters to their streams' dead-letter streams, in one pipeline. */
  async publishDeadLetters(letters: DeadLetter[]): Promise<void> {
    if (letters.length === 0) return;
    const pipeline = this.redis.pipeline();
    for (const letter of letters) pipeline.xadd(deadLetterKey(this.prefix, letter.stream), ...deadLetterArgs(letter));
    collectReplies(await pipeline.exec(), 'XADD');
  }

  private key(stream: StreamName): string {
    return streamKey(this.prefix, stream);
  }

  private xaddArgs(fields: string[]): Array<string | number> {
    return ['MAXLEN', '~', this.maxLength, '*', ...fields];
  }
}
