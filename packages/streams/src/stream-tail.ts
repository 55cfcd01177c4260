import type { Redis } from 'ioredis';
import type { MessageOf, StreamName } from '@free-lunch/contracts';
import { abandonable } from './abandonable.js';
import { backoffDelay, OUTAGE_BACKOFF, sleep } from './backoff.js';
import { decodeMessage } from './codec.js';
import { streamKey } from './keys.js';
import type { StreamsLogger } from './logger.js';
import { MalformedMessageError } from './malformed-message-error.js';
import { collectReplies } from './redis-replies.js';

/** An entry seen by a {@link StreamTail}: its stream, its id (a resume position) and its validated message. */
export type TailEntry = { [S in StreamName]: { stream: S; id: string; message: MessageOf<S> } }[StreamName];

export interface StreamTailOptions {
  /** Duplicated for the blocking reads; the duplicate is closed on stop. */
  redis: Redis;
  prefix: string;
  streams: StreamName[];
  /** `'$'` (default): only entries added from now on. Per stream, an entry id: resume after that entry. */
  from?: Record<string, string> | '$';
  /** Called with each read's entries in stream order; an error it throws is logged and the tail carries on. */
  onEntries(entries: TailEntry[]): void;
  logger: StreamsLogger;
  /** How long one read waits for new entries; default 1000 ms. */
  blockMs?: number;
}

/** Most entries taken from each stream per read. */
const READ_COUNT = 1_000;

/**
 * Follows streams without a consumer group, e.g. for a live view that every replica shows in
 * full. Nothing is acknowledged; a restarted tail resumes from the last id it passed on.
 */
export class StreamTail {
  private readonly logger: StreamsLogger;
  private readonly blockMs: number;
  private readonly streamOfKey = new Map<string, StreamName>();
  /** Per stream key, the id of the last entry passed on: the next read starts after it. */
  private readonly positions = new Map<string, string>();
  private readonly stopping = new AbortController();
  private reader: Redis | null = null;
  private loop: Promise<void> | null = null;
  /** Gives up the read in flight, if any: it then ends with nothing read. */
  private abandonRead: (() => void) | null = null;

  constructor(private readonly options: StreamTailOptions) {
    this.logger = options.logger.child({ tail: options.streams });
    this.blockMs = options.blockMs ?? 1_000;
    for (const stream of options.streams) this.streamOfKey.set(streamKey(options.prefix, stream), stream);
  }

  /** Settles where each stream is read from, then starts following; resolves once reading. */
  async start(): Promise<void> {
    if (this.loop) throw new Error('stream tail is already started');
    await this.resolveStartPositions();
    this.reader = this.options.redis.duplicate();
    // Failed reads are logged by the loop; this only keeps ioredis from reporting each reconnect attempt as unhandled.
    this.reader.on('error', (error: Error) => this.logger.debug({ err: error }, 'blocking connection error'));
    this.loop = this.run();
  }

  /** Stops following and closes the blocking connection. */
  async stop(): Promise<void> {
    this.stopping.abort();
    // A tail holds no delivery state, so cutting a blocked read short loses nothing.
    this.reader?.disconnect();
    // A read that ioredis holds to send again once it has reconnected is never settled after the
    // connection is dropped: the loop stops waiting for it.
    this.abandonRead?.();
    await this.loop;
  }

  /**
   * `'$'` is turned into the stream's current last id once, up front: re-sending `'$'` on every read
   * would skip whatever arrived between two reads.
   */
  private async resolveStartPositions(): Promise<void> {
    const from = this.options.from ?? '$';
    const latest: string[] = [];
    for (const [key, stream] of this.streamOfKey) {
      const start = from === '$' ? '$' : (from[stream] ?? '$');
      if (start === '$') latest.push(key);
      else this.positions.set(key, start);
    }
    if (latest.length === 0) return;
    const pipeline = this.options.redis.pipeline();
    for (const key of latest) pipeline.xrevrange(key, '+', '-', 'COUNT', 1);
    const lastEntries = collectReplies(await pipeline.exec(), 'XREVRANGE') as Array<Array<[string, string[]]>>;
    // An empty or missing stream: everything it will ever hold is new.
    latest.forEach((key, index) => this.positions.set(key, lastEntries[index]![0]?.[0] ?? '0-0'));
  }

  private async run(): Promise<void> {
    let outages = 0;
    while (!this.stopping.signal.aborted) {
      try {
        const keys = [...this.positions.keys()];
        const read = abandonable(
          this.reader!.xread(
            'COUNT', READ_COUNT,
            'BLOCK', this.blockMs,
            'STREAMS', ...keys, ...keys.map((key) => this.positions.get(key)!),
          ),
        );
        this.abandonRead = read.abandon;
        const reply = await read.result.finally(() => {
          this.abandonRead = null;
        });
        // Nothing reaches onEntries once stop() has begun, not even a reply already on its way.
        if (this.stopping.signal.aborted) break;
        outages = 0;
        if (reply) this.deliver(reply);
      } catch (error) {
        if (this.stopping.signal.aborted) break;
        outages += 1;
        const delayMs = backoffDelay(outages, OUTAGE_BACKOFF);
        this.logger.error({ err: error, retryInMs: delayMs }, 'tailing failed; retrying');
        await sleep(delayMs, this.stopping.signal);
      }
    }
  }

  private deliver(reply: Array<[string, Array<[string, string[]]>]>): void {
    const entries: TailEntry[] = [];
    for (const [key, items] of reply) {
      const stream = this.streamOfKey.get(key)!;
      for (const [id, fields] of items) {
        try {
          entries.push({ stream, id, message: decodeMessage(stream, fields) } as TailEntry);
        } catch (error) {
          if (!(error instanceof MalformedMessageError)) throw error;
          this.logger.warn({ err: error, id }, 'skipping a malformed entry');
        }
      }
      const last = items.at(-1);
      if (last) this.positions.set(key, last[0]);
    }
    if (entries.length === 0) return;
    try {
      this.options.onEntries(entries);
    } catch (error) {
      this.logger.error({ err: error }, 'onEntries threw; carrying on with the next entries');
    }
  }
}
