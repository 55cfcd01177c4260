import { afterEach, describe, expect, it } from 'vitest';
import { eventually } from '@free-lunch/service-kit/testing';
import { MANAGER_TOKEN, startOrdersUnderTest, type OrdersUnderTest } from './support/orders-app.js';
import { connectRaw, type RawConnection } from './support/raw-ws.js';

let orders: OrdersUnderTest | undefined;
const open: Array<Extract<RawConnection, { upgraded: true }>> = [];
afterEach(async () => {
  for (const connection of open.splice(0)) connection.terminate();
  await orders?.close();
  orders = undefined;
});

/** orders-app listening on a real port, so upgrades carry real addresses, Host and Origin headers. */
async function listening(env: Record<string, string>): Promise<string> {
  orders = await startOrdersUnderTest({ env });
  const address = await orders.app.listen({ host: '127.0.0.1', port: 0 });
  return address.replace(/^http/, 'ws');
}

async function connect(url: string, options: Parameters<typeof connectRaw>[1] = {}): Promise<RawConnection> {
  const connection = await connectRaw(`${url}/ws`, options);
  if (connection.upgraded) open.push(connection);
  return connection;
}

async function watching(url: string, options: Parameters<typeof connectRaw>[1] = {}) {
  const connection = await connect(url, options);
  if (!connection.upgraded) throw new Error(`refused with ${connection.statusCode}: ${JSON.stringify(connection.body)}`);
  connection.send({ type: 'auth', token: MANAGER_TOKEN });
  await eventually('the live view to be ready', () => expect(connection.messages.map((message) => message.type)).toContain('ready'));
  return connection;
}

describe('who may open the live view', () => {
  it('when a page of another site opens /ws, then it is refused with 403 before any WebSocket is made', async () => {
    const url = await listening({ CORS_ORIGINS: 'https://manager.example.com' });

    const refused = await connect(url, { headers: { origin: 'https://evil.example.net' } });

    expect(refused).toMatchObject({ upgraded: false, statusCode: 403, body: { error: 'origin_not_allowed', message: expect.any(String) } });
  });

  it('when the page is the service itself, a listed origin, or no page at all, then the live view opens', async () => {
    const url = await listening({ CORS_ORIGINS: 'https://manager.example.com' });
    const itself = url.replace(/^ws/, 'http');

    await watching(url, { headers: { origin: itself } });
    await watching(url, { headers: { origin: 'https://manager.example.com' } });
    await watching(url);
  });
});

describe('how many live views may be open', () => {
  it('when one address opens more sockets than its share, then the extra one gets 429 with Retry-After', async () => {
    const url = await listening({ WS_MAX_CONNECTIONS_PER_ADDRESS: '2' });
    await watching(url);
    await watching(url);

    const refused = await connect(url);

    expect(refused).toMatchObject({ upgraded: false, statusCode: 429, body: { error: 'too_many_connections' } });
    expect(refused.upgraded === false && Number(refused.headers['retry-after'])).toBeGreaterThan(0);
  });

  it('when the server holds its most sockets, then the next one gets 429', async () => {
    const url = await listening({ WS_MAX_CONNECTIONS: '2' });
    await watching(url);
    await watching(url);

    expect(await connect(url)).toMatchObject({ upgraded: false, statusCode: 429, body: { error: 'too_many_connections' } });
  });

  it('when sockets close, whether the client hangs up or the server refuses it, then their places are free again', async () => {
    const url = await listening({ WS_MAX_CONNECTIONS_PER_ADDRESS: '1' });
    const first = await watching(url);
    first.terminate();
    await first.closed;

    const second = await connect(url);
    expect(second.upgraded).toBe(true);
    if (!second.upgraded) return;
    second.send({ type: 'auth', token: 'not-the-manager-token' });
    expect((await second.closed).code).toBe(1008);

    await eventually('an upgrade to be accepted again', async () => expect((await connect(url)).upgraded).toBe(true));
  });
});

describe('a client that vanished', () => {
  it('when a client stops answering pings, then its socket is closed; one that answers stays open', async () => {
    const url = await listening({ WS_PING_INTERVAL_MS: '100' });
    const answering = await watching(url);
    const silent = await watching(url, { autoPong: false });

    await silent.closed;
    await eventually('five pings answered', () => expect(answering.pings()).toBeGreaterThanOrEqual(5));
    let answeringClosed = false;
    void answering.closed.then(() => (answeringClosed = true));
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(answeringClosed).toBe(false);
  });
});

describe('how often the live view may be knocked on', () => {
  it('when one address opens more sockets in a minute than its limit, then the extra handshake gets 429 with Retry-After', async () => {
    const url = await listening({ RATE_LIMIT_WS_HANDSHAKES_PER_MINUTE: '3' });
    for (let attempt = 0; attempt < 3; attempt += 1) (await watching(url)).terminate();

    const refused = await connect(url);

    expect(refused).toMatchObject({ upgraded: false, statusCode: 429, body: { error: 'rate_limited' } });
    expect(Number((refused as { headers: Record<string, string> }).headers['retry-after'])).toBeGreaterThan(0);
  });

  it('when wrong tokens are sent over the WebSocket, then they count as failed authentications and the address is held off', async () => {
    const url = await listening({ RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '3' });
    for (let guess = 0; guess < 3; guess += 1) {
      const connection = await connect(url);
      if (!connection.upgraded) throw new Error(`refused with ${connection.statusCode}`);
      connection.send({ type: 'auth', token: `guess-${guess}-0123456789abcdefghijklmnopqrstuvwxyz` });
      await connection.closed;
      expect(connection.messages).toEqual([expect.objectContaining({ type: 'error', error: 'unauthorized' })]);
    }

    const heldOff = await connect(url);
    expect(heldOff).toMatchObject({ upgraded: false, statusCode: 429, body: { error: 'rate_limited' } });
    const placing = await orders!.app.inject({
      method: 'POST',
      url: '/orders',
      headers: { authorization: `Bearer ${MANAGER_TOKEN}` },
      payload: { quantity: 1 },
    });
    expect(placing.statusCode).toBe(429);
  });
});
