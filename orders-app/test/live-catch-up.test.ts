import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames, type LiveStreamName, type WsServerMessage } from '@free-lunch/contracts';
import { deleteTestKeys, eventually, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { StreamPublisher, type StreamsLogger } from '@free-lunch/streams';
import { LiveFeed } from '../src/live/live-feed.js';
import { LiveSession, MAX_HELD_EVENTS, type LiveSocket } from '../src/live/live-session.js';
import { statusEvent } from './support/orders-app.js';

const quiet = { debug() {}, info() {}, warn() {}, error() {}, child: () => quiet } as unknown as StreamsLogger & FastifyBaseLogger;
const stream = streamNames.orderStatusChanged;

/** A feed whose replays wait until the test lets them go: the client stays in its catch-up for as long as needed. */
class HeldUpFeed extends LiveFeed {
  letGo!: () => void;
  private readonly gate = new Promise<void>((resolve) => (this.letGo = resolve));

  override async *replay(on: LiveStreamName, afterId: string) {
    await this.gate;
    yield* super.replay(on, afterId);
  }
}

/** The browser's end of the socket, as the session sees it. */
function dashboardSocket() {
  const listeners: Record<string, Array<() => void>> = {};
  const socket = {
    readyState: 1,
    bufferedAmount: 0,
    messages: [] as WsServerMessage[],
    closedWith: null as number | null,
    send(data: string) {
      socket.messages.push(JSON.parse(data) as WsServerMessage);
    },
    ping() {},
    close(code?: number) {
      socket.readyState = 3;
      socket.closedWith = code ?? 1005;
      for (const listener of listeners.close ?? []) listener();
    },
    terminate() {
      socket.close(1006);
    },
    on(event: string, listener: () => void) {
      (listeners[event] ??= []).push(listener);
    },
    events: () => socket.messages.flatMap((message) => (message.type === 'events' ? message.events : [])),
  };
  return socket satisfies LiveSocket;
}

let redis: Redis;
let prefix: string;
let feed: HeldUpFeed;
let publisher: StreamPublisher;
beforeEach(async () => {
  prefix = testKeyPrefix();
  redis = new Redis(testEnv.redisUrl);
  publisher = new StreamPublisher(redis, { prefix });
  feed = new HeldUpFeed({ redis, prefix, logger: quiet });
  await feed.start();
});
afterEach(async () => {
  feed.letGo();
  await feed.stop();
  await redis.quit();
  await deleteTestKeys(prefix);
});

function cooking() {
  return statusEvent(randomUUID(), 'cooking', new Date().toISOString());
}

/** A client resuming from the stream's last entry, stuck in its catch-up until the feed lets it go. */
async function catchingUp() {
  const seen = await publisher.publish(stream, cooking());
  const socket = dashboardSocket();
  const session = new LiveSession(socket, feed, quiet, { pingIntervalMs: 60_000, maxReplayAgeMs: 600_000 });
  const opened = session.open({ [stream]: seen });
  await eventually('the live view to be ready', () => expect(socket.messages.map((message) => message.type)).toEqual(['ready']));
  return { socket, opened };
}

describe('a client catching up', () => {
  it('when more live events arrive than may be held while it replays, then it is cut off as too slow', async () => {
    const { socket, opened } = await catchingUp();

    await publisher.publishMany(Array.from({ length: MAX_HELD_EVENTS + 1 }, () => ({ stream, message: cooking() })));

    await eventually('the socket to close with 1013', () => expect(socket.closedWith).toBe(1013));
    expect(socket.messages.at(-1)).toEqual({ type: 'error', error: 'too_slow', message: expect.stringMatching(/from=/) });
    feed.letGo();
    await opened;
    expect(socket.events()).toEqual([]);
  });

  it('when fewer arrive, then they are held and sent once the replay is done', async () => {
    const { socket, opened } = await catchingUp();

    const ids = await publisher.publishMany(Array.from({ length: 50 }, () => ({ stream, message: cooking() })));
    await new Promise((resolve) => setTimeout(resolve, 300));
    feed.letGo();
    await opened;

    await eventually('every event on the socket', () => expect(socket.events().map((event) => event.id)).toEqual(ids));
    expect(socket.closedWith).toBeNull();
  });
});
