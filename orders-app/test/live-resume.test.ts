import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { streamNames, type WsTicketResponse } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { encodeMessage, streamKey } from '@free-lunch/streams';
import { isReady } from './support/live-view-client.js';
import { managerHeaders, startOrdersUnderTest, statusEvent, type OrdersUnderTest } from './support/orders-app.js';
import { connectRaw, type RawConnection } from './support/raw-ws.js';

const MAX_REPLAY_AGE_MS = 60_000;
const stream = streamNames.orderStatusChanged;

type Client = Extract<RawConnection, { upgraded: true }>;

let orders: OrdersUnderTest;
let url: string;
const clients: Client[] = [];
async function start(env: Record<string, string> = {}) {
  orders = await startOrdersUnderTest({ env });
  url = (await orders.app.listen({ host: '127.0.0.1', port: 0 })).replace(/^http/, 'ws');
}
afterEach(async () => {
  for (const client of clients.splice(0)) client.terminate();
  await orders.close();
});

/** A dashboard reconnecting with the positions it holds, over a real socket. */
async function resumeFrom(positions: Record<string, string>) {
  const ticket = (await orders.app.inject({ method: 'POST', url: '/ws-ticket', headers: managerHeaders })).json<WsTicketResponse>().ticket;
  const connection = await connectRaw(`${url}/ws?ticket=${ticket}&from=${encodeURIComponent(JSON.stringify(positions))}`);
  if (!connection.upgraded) throw new Error(`refused with ${connection.statusCode}`);
  clients.push(connection);
  return {
    ...connection,
    events: () => connection.messages.flatMap((message) => (message.type === 'events' ? message.events : [])),
    ready: () => eventually('the live view to be ready', () => connection.messages.find(isReady) ?? Promise.reject(new Error('not ready yet'))),
  };
}

function cooking() {
  return statusEvent(randomUUID(), 'cooking', new Date().toISOString());
}

/** An entry as the kitchen would have written it `agoMs` ago. */
function addedAgo(agoMs: number): Promise<string> {
  const id = `${Date.now() - agoMs}-0`;
  return orders.redis.xadd(streamKey(orders.keyPrefix, stream), id, ...encodeMessage(stream, cooking())) as Promise<string>;
}

async function expectTooOld(client: Client) {
  const { code } = await client.closed;
  expect(client.messages).toEqual([{ type: 'error', error: 'resume_too_old', message: expect.stringMatching(/reload/) }]);
  expect(code).toBe(1008);
}

describe('resuming the live view from long ago', () => {
  it('when the position is older than the replay may reach and entries came after it, then the client is told to reload', async () => {
    await start({ WS_MAX_REPLAY_AGE_MS: String(MAX_REPLAY_AGE_MS) });
    const old = await addedAgo(2 * MAX_REPLAY_AGE_MS);
    await orders.publisher.publish(stream, cooking());

    await expectTooOld(await resumeFrom({ [stream]: old }));
  });

  it('when entries after the position were trimmed from the stream, then the client is told to reload instead of missing them', async () => {
    await start();
    const [first, , third] = await orders.publisher.publishMany([cooking(), cooking(), cooking()].map((message) => ({ stream, message })));
    await orders.redis.xtrim(streamKey(orders.keyPrefix, stream), 'MAXLEN', 1);

    await expectTooOld(await resumeFrom({ [stream]: first! }));
    const fromKept = await resumeFrom({ [stream]: third! });
    await fromKept.ready();
  });

  it('when the position is the first entry still kept, then what came after it is replayed', async () => {
    await start();
    const [, second, third] = await orders.publisher.publishMany([cooking(), cooking(), cooking()].map((message) => ({ stream, message })));
    await orders.redis.xtrim(streamKey(orders.keyPrefix, stream), 'MAXLEN', 2);

    const client = await resumeFrom({ [stream]: second! });

    await eventually('the event after the trimmed ones', () => expect(client.events().map((event) => event.id)).toEqual([third]));
  });

  it('when a quiet stream last moved long ago and the client holds that entry, then it resumes and gets live events', async () => {
    await start({ WS_MAX_REPLAY_AGE_MS: String(MAX_REPLAY_AGE_MS) });
    const last = await addedAgo(2 * MAX_REPLAY_AGE_MS);

    const client = await resumeFrom({ [stream]: last });
    expect((await client.ready()).positions[stream]).toBe(last);
    const live = await orders.publisher.publish(stream, cooking());

    await eventually('the live event', () => expect(client.events().map((event) => event.id)).toEqual([live]));
  });

  it('when the client started on an empty stream that has since received entries, then they are all replayed', async () => {
    await start();
    const first = await resumeFrom({});
    const ready = await first.ready();
    expect(ready.positions[stream]).toBe('0-0');
    first.terminate();
    const ids = await orders.publisher.publishMany([cooking(), cooking()].map((message) => ({ stream, message })));

    const again = await resumeFrom(ready.positions);

    await eventually('every event replayed', () => expect(again.events().map((event) => event.id)).toEqual(ids));
  });
});
