import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { streamNames, type StockChangedV1, type WsTicketResponse } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { isReady, openLiveView, type LiveViewClient } from './support/live-view-client.js';
import { MANAGER_TOKEN, managerHeaders, startOrdersUnderTest, statusEvent, type OrdersUnderTest } from './support/orders-app.js';

let orders: OrdersUnderTest;
const clients: LiveViewClient[] = [];
beforeEach(async () => {
  orders = await startOrdersUnderTest();
});
afterEach(async () => {
  for (const client of clients.splice(0)) client.close();
  await orders.close();
});

async function ticket(): Promise<string> {
  const response = await orders.app.inject({ method: 'POST', url: '/ws-ticket', headers: managerHeaders });
  expect(response.statusCode).toBe(201);
  return response.json<WsTicketResponse>().ticket;
}

async function connect(path: string): Promise<LiveViewClient> {
  const client = await openLiveView(orders.app, path);
  clients.push(client);
  return client;
}

function orderCooking() {
  return statusEvent(randomUUID(), 'cooking', new Date().toISOString());
}

function stockChanged(onHand: number): StockChangedV1 {
  return { type: 'stock.changed', version: 1, reason: 'purchase', stock: [{ ingredient: 'tomato', onHand }], at: new Date().toISOString() };
}

/** A refused client gets exactly one message, the error, and then the socket closes. */
async function expectRefused(client: LiveViewClient) {
  const { code } = await client.closed;
  expect(client.messages).toEqual([{ type: 'error', error: 'unauthorized', message: expect.any(String) }]);
  expect(code).toBe(1008);
}

describe('the live view WebSocket', () => {
  describe('without valid authentication', () => {
    it('when the ticket is made up, then one unauthorized error arrives and the socket closes', async () => {
      await expectRefused(await connect(`/ws?ticket=${'x'.repeat(43)}`));
    });

    it('when a ticket is presented a second time, then it is refused', async () => {
      const once = await ticket();
      const first = await connect(`/ws?ticket=${once}`);
      await first.received(isReady);

      await expectRefused(await connect(`/ws?ticket=${once}`));
    });

    it('when the first message carries a wrong token, then one unauthorized error arrives and the socket closes', async () => {
      const client = await connect('/ws');
      client.send({ type: 'auth', token: 'not-the-manager-token' });
      await expectRefused(client);
    });

    it('when the first message is not an auth message, then one unauthorized error arrives and the socket closes', async () => {
      const client = await connect('/ws');
      client.send('hello?');
      await expectRefused(client);
    });

    it('when no ticket is given and nothing is sent, then nothing streams and the socket is refused after a while', async () => {
      const client = await connect('/ws');
      // Published while the socket waits for its auth message: it must never reach this client.
      await orders.publisher.publish(streamNames.orderStatusChanged, orderCooking());
      await expectRefused(client);
    });

    it('when a ticket is asked for without the manager token, then 401', async () => {
      const response = await orders.app.inject({ method: 'POST', url: '/ws-ticket' });
      expect(response.statusCode).toBe(401);
      expect(response.json()).toMatchObject({ error: 'unauthorized' });
    });
  });

  describe('once authenticated', () => {
    it('when the kitchen publishes a status change, then a client with a valid ticket receives it', async () => {
      const client = await connect(`/ws?ticket=${await ticket()}`);
      await client.received(isReady);

      const event = orderCooking();
      const id = await orders.publisher.publish(streamNames.orderStatusChanged, event);

      await eventually('the status event on the live view', () => expect(client.events()).toEqual([{ stream: streamNames.orderStatusChanged, id, message: event }]));
    });

    it('when the manager token is sent as the first message, then the client receives stock events', async () => {
      const client = await connect('/ws');
      client.send({ type: 'auth', token: MANAGER_TOKEN });
      await client.received(isReady);

      const id = await orders.publisher.publish(streamNames.stockChanged, stockChanged(7));

      await eventually('the stock event on the live view', () => expect(client.events().map((event) => event.id)).toEqual([id]));
    });

    it('when a burst of events is published, then they arrive together in fewer frames than events', async () => {
      const client = await connect(`/ws?ticket=${await ticket()}`);
      await client.received(isReady);

      const events = Array.from({ length: 40 }, orderCooking);
      const ids = await orders.publisher.publishMany(
        events.map((message) => ({ stream: streamNames.orderStatusChanged, message })),
      );

      await eventually('every event on the live view', () => expect(client.events().map((event) => event.id)).toEqual(ids));
      expect(client.messages.filter((message) => message.type === 'events').length).toBeLessThan(ids.length);
    });

    it('when two dashboards are open, then both receive the same events', async () => {
      const one = await connect(`/ws?ticket=${await ticket()}`);
      const other = await connect(`/ws?ticket=${await ticket()}`);
      await Promise.all([one.received(isReady), other.received(isReady)]);

      const id = await orders.publisher.publish(streamNames.orderStatusChanged, orderCooking());

      await eventually('the event on both live views', () => {
        expect(one.events().map((event) => event.id)).toEqual([id]);
        expect(other.events().map((event) => event.id)).toEqual([id]);
      });
    });
  });

  describe('resuming', () => {
    it('when a client resumes from the last id it saw, then it receives everything after it exactly once, then live events', async () => {
      const stream = streamNames.orderStatusChanged;
      const [seen, missedOne, missedTwo] = await orders.publisher.publishMany(
        [orderCooking(), orderCooking(), orderCooking()].map((message) => ({ stream, message })),
      );

      const from = encodeURIComponent(JSON.stringify({ [stream]: seen }));
      const client = await connect(`/ws?ticket=${await ticket()}&from=${from}`);
      // Published while the client is catching up: it must come once, after the replay.
      const whileJoining = await orders.publisher.publish(stream, orderCooking());
      const ready = await client.received(isReady);
      expect(ready.positions[stream]).toBe(seen);
      const live = await orders.publisher.publish(stream, orderCooking());

      await eventually('the live event after the missed ones', () => expect(client.events().map((event) => event.id)).toContain(live));
      expect(client.events().map((event) => event.id)).toEqual([missedOne, missedTwo, whileJoining, live]);
    });

    it('when the resume position comes in the auth message, then the missed events are replayed', async () => {
      const stream = streamNames.stockChanged;
      const [seen, missed] = await orders.publisher.publishMany(
        [stockChanged(5), stockChanged(4)].map((message) => ({ stream, message })),
      );

      const client = await connect('/ws');
      client.send({ type: 'auth', token: MANAGER_TOKEN, resumeFrom: { [stream]: seen } });

      await eventually('the missed event', () => expect(client.events().map((event) => event.id)).toEqual([missed]));
    });

    it('when a client reconnects with the positions it had, then nothing published in between is lost or repeated', async () => {
      const first = await connect(`/ws?ticket=${await ticket()}`);
      await first.received(isReady);
      const before = await orders.publisher.publish(streamNames.orderStatusChanged, orderCooking());
      await eventually('the first event', () => expect(first.events()).toHaveLength(1));
      first.close();

      const whileAway = await orders.publisher.publish(streamNames.orderStatusChanged, orderCooking());
      const positions = { [streamNames.orderStatusChanged]: first.events().at(-1)!.id };
      const second = await connect(`/ws?ticket=${await ticket()}&from=${encodeURIComponent(JSON.stringify(positions))}`);

      await eventually('the event published while away', () => expect(second.events().map((event) => event.id)).toEqual([whileAway]));
      expect(first.events().map((event) => event.id)).toEqual([before]);
    });

    it('when the resume position is not valid, then the client is told why and the socket closes', async () => {
      const client = await connect(`/ws?ticket=${await ticket()}&from=${encodeURIComponent('{"orders.placed":"1-0"}')}`);

      await client.closed;
      expect(client.messages).toEqual([{ type: 'error', error: 'invalid_request', message: expect.stringMatching(/from/) }]);
    });
  });
});
