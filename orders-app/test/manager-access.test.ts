import type { FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { parseConfig } from '@free-lunch/service-kit';
import { OrdersConfig } from '../src/config.js';
import { countRows, startOrdersUnderTest, type OrdersUnderTest } from './support/orders-app.js';

const oldToken = 'old-token-0123456789abcdefghijklmnopqrstu';
const newToken = 'new-token-0123456789abcdefghijklmnopqrstu';
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

let underTest: OrdersUnderTest | undefined;
afterEach(async () => {
  await underTest?.close();
  underTest = undefined;
});

async function start(env: Record<string, string>): Promise<OrdersUnderTest> {
  underTest = await startOrdersUnderTest({ env });
  return underTest;
}

function placeOne(app: FastifyInstance, headers: Record<string, string>) {
  return app.inject({ method: 'POST', url: '/orders', headers, payload: { quantity: 1 } });
}

describe('manager tokens', () => {
  it('when two tokens are configured during a rotation, then each places orders and any other token gets 401', async () => {
    const { app } = await start({ MANAGER_TOKENS: `${oldToken}, ${newToken}` });

    expect((await placeOne(app, bearer(oldToken))).statusCode).toBe(202);
    expect((await placeOne(app, bearer(newToken))).statusCode).toBe(202);
    const wrong = await placeOne(app, bearer(`${newToken}x`));
    expect(wrong.statusCode).toBe(401);
    expect(wrong.json()).toMatchObject({ error: 'unauthorized' });
    expect(await countRows(app, 'orders')).toBe(2);
  });

  it('when a token is shorter than 32 characters, then the service refuses to start and says why without echoing it', () => {
    const start = () => parseConfig(OrdersConfig, { MANAGER_TOKENS: `${newToken},short-token-123` });
    expect(start).toThrow(/MANAGER_TOKENS: 1 of the manager tokens is shorter than 32 characters/);
    expect(start).not.toThrow(/short-token-123/);
    expect(() => parseConfig(OrdersConfig, { MANAGER_TOKEN: 'x'.repeat(31) })).toThrow(/MANAGER_TOKEN: /);
  });

  it('when NODE_ENV is production and no token is set, then the service refuses to start', () => {
    expect(() => parseConfig(OrdersConfig, { NODE_ENV: 'production' })).toThrow(/MANAGER_TOKENS: is required when NODE_ENV=production/);
    expect(parseConfig(OrdersConfig, { NODE_ENV: 'production', MANAGER_TOKEN: newToken }).MANAGER_TOKEN).toBe(newToken);
  });

  it('when no token is set outside production, then the service starts but accepts no manager request', async () => {
    const { app } = await start({ MANAGER_TOKEN: '', MANAGER_TOKENS: '' });
    expect((await placeOne(app, bearer(newToken))).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/orders/summary' })).statusCode).toBe(200);
  });
});

describe('rate limits', () => {
  it('when an address keeps guessing tokens, then it gets 429 with Retry-After within its first 20 tries, even with the right token', async () => {
    const { app } = await start({ MANAGER_TOKENS: newToken, RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: '10' });

    const statuses: number[] = [];
    let refused: Awaited<ReturnType<typeof placeOne>> | undefined;
    for (let guess = 0; guess < 20; guess += 1) {
      const response = await placeOne(app, bearer(`guess-${guess}-0123456789abcdefghijklmnopqrstu`));
      statuses.push(response.statusCode);
      if (response.statusCode === 429) refused ??= response;
    }
    expect(statuses.slice(0, 10)).toEqual(Array(10).fill(401));
    expect(statuses.slice(10)).toEqual(Array(10).fill(429));
    expect(refused!.json()).toMatchObject({ error: 'rate_limited' });
    expect(Number(refused!.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(refused!.headers['retry-after'])).toBeLessThanOrEqual(60);
    // The address waits out its minute whatever it sends; another address does not.
    expect((await placeOne(app, bearer(newToken))).statusCode).toBe(429);
    const elsewhere = await app.inject({
      method: 'POST',
      url: '/orders',
      headers: bearer(newToken),
      payload: { quantity: 1 },
      remoteAddress: '203.0.113.7',
    });
    expect(elsewhere.statusCode).toBe(202);
    expect(await countRows(app, 'orders')).toBe(1);
  });

  it('when one token places orders faster than its limit, then it gets 429 and nothing is stored, while another token goes on', async () => {
    const { app } = await start({ MANAGER_TOKENS: `${oldToken},${newToken}`, RATE_LIMIT_ORDERS_PER_MINUTE: '3' });

    for (let request = 0; request < 3; request += 1) expect((await placeOne(app, bearer(newToken))).statusCode).toBe(202);
    const over = await placeOne(app, bearer(newToken));
    expect(over.statusCode).toBe(429);
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect(await countRows(app, 'orders')).toBe(3);
    expect((await placeOne(app, bearer(oldToken))).statusCode).toBe(202);
  });

  it('when two replicas share Redis, then a limit counts the requests both of them answered', async () => {
    const env = { MANAGER_TOKENS: newToken, RATE_LIMIT_ORDERS_PER_MINUTE: '4' };
    const first = await start(env);
    const second = await first.startReplica();

    const statuses = [];
    for (const app of [first.app, second, first.app, second, first.app, second]) {
      statuses.push((await placeOne(app, bearer(newToken))).statusCode);
    }
    expect(statuses).toEqual([202, 202, 202, 202, 429, 429]);
  });

  it('when an address reads past its limit, then it gets 429 while health checks and other addresses go on', async () => {
    const { app } = await start({ RATE_LIMIT_READS_PER_MINUTE: '5' });
    const read = (remoteAddress = '198.51.100.1') => app.inject({ method: 'GET', url: '/orders/summary', remoteAddress });

    for (let request = 0; request < 5; request += 1) expect((await read()).statusCode).toBe(200);
    const over = await read();
    expect(over.statusCode).toBe(429);
    expect(over.json()).toMatchObject({ error: 'rate_limited' });
    expect(Number(over.headers['retry-after'])).toBeGreaterThan(0);
    expect((await app.inject({ method: 'GET', url: '/orders', remoteAddress: '198.51.100.1' })).statusCode).toBe(429);
    expect((await app.inject({ method: 'GET', url: '/health', remoteAddress: '198.51.100.1' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ready', remoteAddress: '198.51.100.1' })).statusCode).toBe(200);
    expect((await read('198.51.100.2')).statusCode).toBe(200);
  });

  it('when a client sends X-Forwarded-For, then only a configured proxy hop is believed', async () => {
    const direct = await start({ RATE_LIMIT_READS_PER_MINUTE: '2' });
    const spoofed = (forwardedFor: string) =>
      direct.app.inject({
        method: 'GET',
        url: '/orders/summary',
        remoteAddress: '198.51.100.1',
        headers: { 'x-forwarded-for': forwardedFor },
      });
    // Without TRUST_PROXY a made-up address does not buy a fresh count.
    expect([(await spoofed('192.0.2.1')).statusCode, (await spoofed('192.0.2.2')).statusCode, (await spoofed('192.0.2.3')).statusCode]).toEqual([
      200, 200, 429,
    ]);
    await direct.close();
    underTest = undefined;

    // Behind one load balancer, the address it saw is the client's.
    const proxied = await start({ RATE_LIMIT_READS_PER_MINUTE: '2', TRUST_PROXY: '1' });
    const viaBalancer = (client: string) =>
      proxied.app.inject({
        method: 'GET',
        url: '/orders/summary',
        remoteAddress: '10.0.0.5',
        headers: { 'x-forwarded-for': `6.6.6.6, ${client}` },
      });
    expect([(await viaBalancer('192.0.2.1')).statusCode, (await viaBalancer('192.0.2.1')).statusCode, (await viaBalancer('192.0.2.1')).statusCode]).toEqual([
      200, 200, 429,
    ]);
    expect((await viaBalancer('192.0.2.9')).statusCode).toBe(200);
  });

  it('when TRUST_PROXY is true, then the service refuses to start: any client could pick its address', () => {
    expect(() => parseConfig(OrdersConfig, { TRUST_PROXY: 'true' })).toThrow(/TRUST_PROXY: true would believe any X-Forwarded-For/);
  });
});
