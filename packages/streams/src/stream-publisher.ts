import type { Redis } from 'ioredis';
import type { DeadLetter, MessageOf, StreamName } from '@free-lunch/contracts';
import { encodeMessage, MESSAGE_FIELD, serializeMessage } from './codec.js';
import { deadLetterArgs } from './dead-letter.js';
import { deadLetterKey, streamKey } from './keys.js';
import { collectReplies } from './redis-replies.js';
import { STREAM_MAX_LENGTHS } from './retention.js';

/** One message bound for one stream; the union keeps each message tied to its stream's type. */
export type OutgoingMessage = { [S in StreamName]: { stream: S; message: MessageOf<S> } }[StreamName];

export interface StreamPublisherOptions {
  /** The deployment's key prefix, e.g. `fl:`. */
  prefix: string;
  /**
   * Every stream is trimmed to about this many entries (XADD MAXLEN ~). Default: each stream's own
   * cap, {@link STREAM_MAX_LENGTHS} (a last resort for work streams, which the StreamJanitor trims by
   * age; a small one for the streams only the live view reads).
   */
  maxLength?: number;
}

/**
 * Most appends in one script: as many as a consumer reads at once by default (its batch size), so a
 * large relay batch wakes consumers with full batches without holding Redis for long.
 */
const MAX_ENTRIES_PER_SCRIPT = 500;

/**
 * Appends a batch of entries: KEYS are the streams, the first #KEYS of ARGV their MAXLENs, then one
 * pair per entry of the index of its stream in KEYS and its message JSON. Answers the new entry ids
 * in order.
 */
const APPEND_SCRIPT = `
local ids = {}
for i = #KEYS + 1, #ARGV, 2 do
  local stream = tonumber(ARGV[i])
  ids[#ids + 1] = redis.call('XADD', KEYS[stream], 'MAXLEN', '~', ARGV[stream], '*', '${MESSAGE_FIELD}', ARGV[i + 1])
end
return ids`;

/**
 * The name the script is defined under on the client. ioredis sends it whole once per connection,
 * then only its hash (EVALSHA), and whole again when Redis has lost it.
 */
const APPEND_COMMAND = 'freeLunchAppendEntries';

type AppendingRedis = Redis & {
  [APPEND_COMMAND](keyCount: number, ...keysAndArgs: Array<string | number>): Promise<string[]>;
};

/** Writes validated messages to streams; many at once go out in one round trip per 500. */
export class StreamPublisher {
  private readonly prefix: string;
  private readonly maxLength: number | undefined;

  constructor(
    private readonly redis: Redis,
    options: StreamPublisherOptions,
  ) {
    this.prefix = options.prefix;
    this.maxLength = options.maxLength;
    // Defining it again on a client another publisher shares is harmless: same name, same script.
    redis.defineCommand(APPEND_COMMAND, { lua: APPEND_SCRIPT });
  }

  /** Validates and appends one message; returns its entry id. Nothing is written if it is invalid. */
  async publish<S extends StreamName>(stream: S, message: MessageOf<S>): Promise<string> {
    const id = await this.redis.xadd(
      this.key(stream),
      'MAXLEN', '~', this.maxLengthOf(stream), '*', ...encodeMessage(stream, message),
    );
    // XADD only answers null with NOMKSTREAM, which is never sent.
    return id!;
  }

  /**
   * Validates every message first (one invalid → nothing is written), then appends them in one
   * round trip per 500. Returns the entry ids in the order given; throws if any append failed, in
   * which case the entries appended before it stay (a relay then publishes them again, which
   * consumers absorb: delivery is at least once).
   *
   * Each 500 go in one script, which Redis runs whole before serving anyone else. A bare pipeline
   * would not do: Redis hands new entries to a blocked XREADGROUP after each command it runs, so a
   * waiting consumer would wake on the first entry alone, handle a batch of one, and (with several
   * consumers) another would wake on the second. After the script it wakes once, with every entry
   * there. One command per 500 is also far cheaper for this process than 500 XADDs in a MULTI/EXEC:
   * about 1 µs of CPU per entry instead of 6.
   */
  async publishMany(entries: OutgoingMessage[]): Promise<string[]> {
    if (entries.length === 0) return [];
    const encoded = entries.map(({ stream, message }) => ({
      stream,
      json: serializeMessage(stream, message as MessageOf<typeof stream>),
    }));
    const ids: string[] = [];
    for (let start = 0; start < encoded.length; start += MAX_ENTRIES_PER_SCRIPT) {
      const streams: StreamName[] = [];
      const entryArgs: Array<string | number> = [];
      for (const { stream, json } of encoded.slice(start, start + MAX_ENTRIES_PER_SCRIPT)) {
        let index = streams.indexOf(stream);
        if (index < 0) index = streams.push(stream) - 1;
        entryArgs.push(index + 1, json);
      }
      const keys = streams.map((stream) => this.key(stream));
      const maxLengths = streams.map((stream) => this.maxLengthOf(stream));
      ids.push(
        ...(await (this.redis as AppendingRedis)[APPEND_COMMAND](keys.length, ...keys, ...maxLengths, ...entryArgs)),
      );
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

  private maxLengthOf(stream: StreamName): number {
    return this.maxLength ?? STREAM_MAX_LENGTHS[stream];
  }
}
