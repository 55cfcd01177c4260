import type { FastifyBaseLogger } from 'fastify';
import {
  liveStreamNames,
  type LiveEvent,
  type LiveStreamName,
  type StreamPositions,
  type WsServerMessage,
} from '@free-lunch/contracts';
import { resumeRefusal } from '../domain/resume-positions.js';
import { isAfter } from '../domain/stream-position.js';
import type { FeedSubscriber, FeedTick, LiveFeed } from './live-feed.js';

/** What a session needs of a `ws` WebSocket. */
export interface LiveSocket {
  readonly readyState: number;
  readonly bufferedAmount: number;
  send(data: string): void;
  ping(): void;
  close(code?: number, reason?: string): void;
  /** Drops the connection without a closing handshake: a peer that stopped answering would not complete one. */
  terminate(): void;
  on(event: 'close' | 'pong', listener: () => void): unknown;
}

export interface LiveSessionOptions {
  /** How often the client is pinged; one that has not answered the previous ping by the next is dropped. */
  pingIntervalMs: number;
  /** How far back a resume position may reach (see {@link resumeRefusal}). */
  maxReplayAgeMs: number;
}

const OPEN = 1;

/** A client further behind than this is cut off; it reconnects with `from` and loses nothing. */
const MAX_BUFFERED_BYTES = 8 * 1024 * 1024;

/**
 * Live events held for a client still being replayed its history; beyond this it is cut off like a
 * slow one, since a replay that falls this far behind would otherwise hold them without end.
 */
export const MAX_HELD_EVENTS = 10_000;

/** WebSocket close codes: 1008 policy violation (refused), 1013 try again later (too slow). */
const CLOSE_REFUSED = 1008;
const CLOSE_TOO_SLOW = 1013;

/**
 * One dashboard connection. After authentication it joins the feed, then catches up from where
 * the client says it was, then streams live. Each event goes out at most once and none is skipped:
 * the session subscribes (the feed is reading once that resolves) before reading history, holds
 * live ticks while replaying, and from then on passes an entry only if it comes after the last one
 * sent on its stream.
 */
export class LiveSession implements FeedSubscriber {
  private phase: 'authenticating' | 'catching_up' | 'live' | 'ended' = 'authenticating';
  /** Per stream, the id of the last event the client has (or was told to start after). */
  private readonly sentUpTo = new Map<LiveStreamName, string>();
  private held: LiveEvent[] = [];
  private unsubscribe: (() => void) | null = null;
  private pinger: NodeJS.Timeout | null = null;
  private answeredPing = true;

  constructor(
    private readonly socket: LiveSocket,
    private readonly feed: LiveFeed,
    private readonly log: FastifyBaseLogger,
    private readonly options: LiveSessionOptions,
  ) {
    socket.on('close', () => this.end());
    socket.on('pong', () => (this.answeredPing = true));
  }

  /** The client is authenticated: tell it where its events start, replay what it missed, go live. */
  async open(resumeFrom: StreamPositions): Promise<void> {
    if (this.phase !== 'authenticating') return;
    this.phase = 'catching_up';
    const unsubscribe = await this.feed.subscribe(this);
    // The client may have gone while the feed's tail was starting.
    if (this.ended()) {
      unsubscribe();
      return;
    }
    this.unsubscribe = unsubscribe;
    this.pinger = setInterval(() => this.checkAlive(), this.options.pingIntervalMs);
    this.pinger.unref();

    const ends = await this.feed.streamEnds();
    if (this.ended()) return;
    const refusal = resumeRefusal(resumeFrom, ends, Date.now(), this.options.maxReplayAgeMs);
    if (refusal) return this.refuse('resume_too_old', refusal.message);
    for (const stream of liveStreamNames) this.sentUpTo.set(stream, resumeFrom[stream] ?? ends[stream].last);
    this.send({ type: 'ready', positions: Object.fromEntries(this.sentUpTo) as Record<LiveStreamName, string> });

    for (const [stream, after] of Object.entries(resumeFrom) as Array<[LiveStreamName, string]>) {
      for await (const page of this.feed.replay(stream, after)) {
        if (this.ended()) return;
        this.sendEvents(page);
      }
    }

    // The client may have gone, or been cut off, while history was read.
    if (this.ended()) return;
    this.phase = 'live';
    const held = this.held;
    this.held = [];
    this.sendEvents(held);
  }

  /** Refuses the client: one error message, then the socket closes. Nothing was or will be streamed. */
  refuse(error: string, message: string): void {
    this.send({ type: 'error', error, message });
    this.socket.close(CLOSE_REFUSED, error);
    this.end();
  }

  receive(tick: FeedTick): void {
    if (this.phase === 'catching_up') {
      if (this.held.length + tick.events.length > MAX_HELD_EVENTS) return this.cutOff();
      this.held.push(...tick.events);
    } else if (this.phase === 'live') {
      this.sendTick(tick);
    }
  }

  /**
   * Keeps idle connections from being dropped by load balancers (the AWS ALB default is 60 s), and
   * drops a client that vanished without closing (a sleeping laptop, a dead network): it would
   * otherwise hold its place among the open sockets, and the feed's frames, until TCP gave up.
   */
  private checkAlive(): void {
    if (this.socket.readyState !== OPEN) return;
    if (!this.answeredPing) {
      this.log.info('live view client stopped answering pings; dropping it');
      this.socket.terminate();
      this.end();
      return;
    }
    this.answeredPing = false;
    this.socket.ping();
  }

  private sendTick(tick: FeedTick): void {
    // Almost always every event is new to this client: send the frame serialized once for all.
    if (tick.events.every((event) => isAfter(event.id, this.sentUpTo.get(event.stream)!))) {
      for (const event of tick.events) this.sentUpTo.set(event.stream, event.id);
      this.sendRaw(tick.frame);
    } else {
      this.sendEvents(tick.events);
    }
  }

  private sendEvents(events: readonly LiveEvent[]): void {
    const fresh = events.filter((event) => {
      if (!isAfter(event.id, this.sentUpTo.get(event.stream)!)) return false;
      this.sentUpTo.set(event.stream, event.id);
      return true;
    });
    if (fresh.length > 0) this.send({ type: 'events', events: fresh });
  }

  private send(message: WsServerMessage): void {
    this.sendRaw(JSON.stringify(message));
  }

  private sendRaw(frame: string): void {
    if (this.socket.readyState !== OPEN) return;
    if (this.socket.bufferedAmount > MAX_BUFFERED_BYTES) return this.cutOff();
    this.socket.send(frame);
  }

  /** Disconnects a client that fell too far behind; it reconnects with `from` and loses nothing. */
  private cutOff(): void {
    this.log.warn('live view client too slow; disconnecting it');
    if (this.socket.readyState === OPEN) {
      this.socket.send(
        JSON.stringify({
          type: 'error',
          error: 'too_slow',
          message: 'The connection fell too far behind; reconnect with from= set to the last ids you received.',
        } satisfies WsServerMessage),
      );
      this.socket.close(CLOSE_TOO_SLOW, 'too_slow');
    }
    this.end();
  }

  private ended(): boolean {
    return this.phase === 'ended';
  }

  private end(): void {
    this.phase = 'ended';
    this.unsubscribe?.();
    this.unsubscribe = null;
    if (this.pinger) clearInterval(this.pinger);
    this.pinger = null;
    this.held = [];
  }
}
