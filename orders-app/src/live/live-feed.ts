import type { Redis } from 'ioredis';
import { liveStreamNames, type LiveEvent, type LiveStreamName } from '@free-lunch/contracts';
import {
  decodeMessage,
  MalformedMessageError,
  StreamTail,
  streamKey,
  type StreamTailOptions,
  type TailEntry,
} from '@free-lunch/streams';
import type { StreamEnd } from '../domain/resume-positions.js';
import { STREAM_START } from '../domain/stream-position.js';

/** Events gathered over about this long go out as one frame: a burst of 1,000 orders is a few frames, not thousands. */
export const FRAME_INTERVAL_MS = 100;

/** Entries read per XRANGE while a client catches up. */
const REPLAY_PAGE = 500;

/** One frame's worth of live events, with the frame serialized once for every client that takes it whole. */
export interface FeedTick {
  readonly events: readonly LiveEvent[];
  readonly frame: string;
}

export interface FeedSubscriber {
  receive(tick: FeedTick): void;
}

/**
 * How long the tail keeps reading after the last dashboard left: a page reload or a reconnect
 * rejoins a running tail instead of starting a new one.
 */
export const IDLE_TAIL_MS = 30_000;

/**
 * The live view's single reader of Redis: one {@link StreamTail} per process, however many
 * dashboards are open, whose entries are coalesced into one frame per {@link FRAME_INTERVAL_MS} and
 * handed to every subscribed session. It also answers what sessions need to join without gaps:
 * where each stream ends now, and the entries after a given id.
 *
 * The tail runs only while someone watches: with no dashboard open, a day of orders costs the
 * process no reads and no decoding of the live streams. It starts when the first session
 * subscribes and stops {@link IDLE_TAIL_MS} after the last one leaves. A session subscribes before
 * it reads where the streams end, and the tail has settled its own start by then, so whatever is
 * added afterwards reaches the session through the tail and whatever came before, through replay.
 */
export class LiveFeed {
  private readonly subscribers = new Set<FeedSubscriber>();
  private tail: StreamTail | null = null;
  /** Settles once the running tail reads from where the streams ended when it started. */
  private tailStarted: Promise<void> | null = null;
  private idleTimer: NodeJS.Timeout | null = null;
  private stopped = true;
  private pending: LiveEvent[] = [];
  private flushTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly options: {
      redis: Redis;
      prefix: string;
      logger: StreamTailOptions['logger'];
      /** Override of {@link IDLE_TAIL_MS}, for tests. */
      idleTailMs?: number;
    },
  ) {}

  /** Lets sessions subscribe; nothing is read until one does. */
  start(): Promise<void> {
    this.stopped = false;
    return Promise.resolve();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.clearIdleTimer();
    await this.stopTail();
    if (this.flushTimer) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.pending = [];
  }

  /** Whether the feed is reading Redis now (someone watches, or did within {@link IDLE_TAIL_MS}). */
  get tailing(): boolean {
    return this.tail !== null;
  }

  /**
   * Starts handing ticks to `subscriber`; resolves, with how to stop, once the tail is reading, so
   * every entry added from then on reaches the subscriber.
   */
  async subscribe(subscriber: FeedSubscriber): Promise<() => void> {
    if (this.stopped) throw new Error('the live feed is stopped');
    this.subscribers.add(subscriber);
    this.clearIdleTimer();
    try {
      await this.ensureTail();
    } catch (error) {
      this.unsubscribe(subscriber);
      throw error;
    }
    return () => this.unsubscribe(subscriber);
  }

  private unsubscribe(subscriber: FeedSubscriber): void {
    if (!this.subscribers.delete(subscriber) || this.subscribers.size > 0 || this.stopped) return;
    this.clearIdleTimer();
    this.idleTimer = setTimeout(() => {
      this.idleTimer = null;
      if (this.subscribers.size === 0) void this.stopTail();
    }, this.options.idleTailMs ?? IDLE_TAIL_MS);
    this.idleTimer.unref();
  }

  private ensureTail(): Promise<void> {
    if (this.tailStarted) return this.tailStarted;
    const tail = new StreamTail({
      redis: this.options.redis,
      prefix: this.options.prefix,
      streams: [...liveStreamNames],
      from: '$',
      logger: this.options.logger,
      onEntries: (entries) => this.gather(entries),
    });
    this.tail = tail;
    const started = tail.start().catch(async (error: unknown) => {
      // A tail that could not start (Redis unreachable) is dropped; the next session tries afresh.
      if (this.tail === tail) {
        this.tail = null;
        this.tailStarted = null;
      }
      await tail.stop().catch(() => undefined);
      throw error;
    });
    this.tailStarted = started;
    return started;
  }

  private async stopTail(): Promise<void> {
    const tail = this.tail;
    const started = this.tailStarted;
    this.tail = null;
    this.tailStarted = null;
    if (!tail) return;
    await started?.catch(() => undefined);
    await tail.stop();
  }

  private clearIdleTimer(): void {
    if (this.idleTimer) clearTimeout(this.idleTimer);
    this.idleTimer = null;
  }

  /**
   * Where each live stream stands now: its first and last entries ({@link STREAM_START} as the last
   * of an empty one) and whether it was trimmed. XINFO STREAM answers all three in one read per stream.
   */
  async streamEnds(): Promise<Record<LiveStreamName, StreamEnd>> {
    const pipeline = this.options.redis.pipeline();
    for (const stream of liveStreamNames) pipeline.xinfo('STREAM', this.key(stream));
    const replies = (await pipeline.exec()) ?? [];
    const ends = {} as Record<LiveStreamName, StreamEnd>;
    liveStreamNames.forEach((stream, index) => {
      const [error, reply] = replies[index] ?? [new Error('no reply')];
      if (error) {
        // Nothing was ever added (or Redis lost it): there is nothing to replay either way.
        if (/no such key/i.test(error.message)) ends[stream] = { first: null, last: STREAM_START, trimmed: false };
        else throw error;
        return;
      }
      ends[stream] = streamEndOf(reply as unknown[]);
    });
    return ends;
  }

  /** Every entry of `stream` after `afterId`, oldest first, a page at a time. */
  async *replay(stream: LiveStreamName, afterId: string): AsyncGenerator<LiveEvent[]> {
    let after = afterId;
    for (;;) {
      const entries = await this.options.redis.xrange(this.key(stream), `(${after}`, '+', 'COUNT', REPLAY_PAGE);
      const events: LiveEvent[] = [];
      for (const [id, fields] of entries) {
        const event = this.decode(stream, id, fields);
        if (event) events.push(event);
      }
      if (events.length > 0) yield events;
      if (entries.length < REPLAY_PAGE) return;
      after = entries.at(-1)![0];
    }
  }

  private gather(entries: TailEntry[]): void {
    // The tail follows only the live streams, so each entry is a live event.
    this.pending.push(...(entries as LiveEvent[]));
    this.flushTimer ??= setTimeout(() => this.flush(), FRAME_INTERVAL_MS);
  }

  private flush(): void {
    this.flushTimer = null;
    const events = this.pending;
    this.pending = [];
    if (events.length === 0) return;
    let frame: string | undefined;
    const tick: FeedTick = {
      events,
      get frame() {
        frame ??= JSON.stringify({ type: 'events', events });
        return frame;
      },
    };
    for (const subscriber of this.subscribers) {
      try {
        subscriber.receive(tick);
      } catch (error) {
        this.options.logger.error({ err: error }, 'a live view session failed to take a frame');
      }
    }
  }

  private decode(stream: LiveStreamName, id: string, fields: string[]): LiveEvent | null {
    try {
      return { stream, id, message: decodeMessage(stream, fields) } as LiveEvent;
    } catch (error) {
      if (!(error instanceof MalformedMessageError)) throw error;
      // The live view shows what it can; a malformed entry is skipped as the tail skips it.
      this.options.logger.warn({ err: error, stream, id }, 'skipping a malformed entry in replay');
      return null;
    }
  }

  private key(stream: LiveStreamName): string {
    return streamKey(this.options.prefix, stream);
  }
}

/** Reads XINFO STREAM's flat field/value reply. */
function streamEndOf(reply: unknown[]): StreamEnd {
  const info = new Map<string, unknown>();
  for (let i = 0; i + 1 < reply.length; i += 2) info.set(String(reply[i]), reply[i + 1]);
  const idOf = (entry: unknown) => (Array.isArray(entry) ? String(entry[0]) : null);
  return {
    first: idOf(info.get('first-entry')),
    last: idOf(info.get('last-entry')) ?? STREAM_START,
    // XADD MAXLEN trims from the front: fewer entries held than were ever added means some are gone.
    trimmed: Number(info.get('entries-added')) > Number(info.get('length')),
  };
}
