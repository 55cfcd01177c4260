import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { startInProcessStack, startServiceProcess, freePort, type InProcessStack } from '../src/index.js';

const cleanups: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const managerToken = randomBytes(24).toString('hex');
let stack: InProcessStack;
let dashboardOrigin: string;

beforeAll(async () => {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const keyPrefix = testKeyPrefix();
  cleanups.push(() => deleteTestKeys(keyPrefix));
  stack = await startInProcessStack({ databaseUrl: database.url, redisUrl: testEnv.redisUrl, keyPrefix, managerToken });
  cleanups.push(() => stack.close());
  dashboardOrigin = stack.urls.orders;
});

const services = () => [
  { name: 'orders-app', url: stack.urls.orders, read: '/orders/summary' },
  { name: 'kitchen-app', url: stack.urls.kitchen, read: '/recipes' },
  { name: 'inventory-app', url: stack.urls.inventory, read: '/stock' },
];

describe('HTTP hardening of every service', () => {
  it('when any service answers, then it sends the security headers and a Content-Security-Policy', async () => {
    for (const { name, url, read } of services()) {
      for (const path of [read, '/health', '/no-such-route']) {
        const response = await fetch(`${url}${path}`);
        const csp = response.headers.get('content-security-policy') ?? '';
        expect(csp, `${name} ${path}`).toContain("default-src 'self'");
        expect(csp, `${name} ${path}`).toContain("frame-ancestors 'none'");
        expect(csp, `${name} ${path}`).not.toContain('unsafe-eval');
        expect(response.headers.get('x-content-type-options'), `${name} ${path}`).toBe('nosniff');
        expect(response.headers.get('x-frame-options'), `${name} ${path}`).toBe('SAMEORIGIN');
        expect(response.headers.get('strict-transport-security'), `${name} ${path}`).toMatch(/max-age=\d+/);
        expect(response.headers.get('referrer-policy'), `${name} ${path}`).toBe('no-referrer');
        expect(response.headers.get('x-powered-by'), `${name} ${path}`).toBeNull();
      }
    }
  });

  it("when the dashboard's origin reads the kitchen and the warehouse, then CORS allows exactly that origin and never *", async () => {
    for (const { name, url, read } of services().slice(1)) {
      const allowed = await fetch(`${url}${read}`, { headers: { origin: dashboardOrigin } });
      expect(allowed.status, name).toBe(200);
      expect(allowed.headers.get('access-control-allow-origin'), name).toBe(dashboardOrigin);

      const foreign = await fetch(`${url}${read}`, { headers: { origin: 'https://evil.example' } });
      expect(foreign.headers.get('access-control-allow-origin'), name).toBeNull();

      const preflight = await fetch(`${url}${read}`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      });
      expect(preflight.headers.get('access-control-allow-origin'), name).toBeNull();
    }
  });

  it("when the dashboard's CSP is read, then it lets the page reach the kitchen and the warehouse and nothing else", async () => {
    const csp = (await fetch(`${stack.urls.orders}/`)).headers.get('content-security-policy') ?? '';
    const connect = /connect-src ([^;]+)/.exec(csp)?.[1]?.split(' ') ?? [];
    expect(connect.sort()).toEqual(["'self'", stack.urls.inventory, stack.urls.kitchen].sort());
    expect(csp).toMatch(/script-src 'self'(;|$)/);
  });

  it('when a body is larger than the limit, then 413 body_too_large and nothing is placed', async () => {
    const before = ((await (await fetch(`${stack.urls.orders}/orders/summary`)).json()) as { total: number }).total;
    const response = await fetch(`${stack.urls.orders}/orders`, {
      method: 'POST',
      headers: { authorization: `Bearer ${managerToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ quantity: 1, padding: 'x'.repeat(20_000) }),
    });
    expect(response.status).toBe(413);
    expect(await response.json()).toMatchObject({ error: 'body_too_large' });
    const after = ((await (await fetch(`${stack.urls.orders}/orders/summary`)).json()) as { total: number }).total;
    expect(after).toBe(before);
  });

  it('when a service runs, then its server has request, keep-alive and connection timeouts', () => {
    for (const app of [stack.orders, stack.kitchen, stack.inventory]) {
      expect(app.server.requestTimeout).toBe(30_000);
      expect(app.server.keepAliveTimeout).toBe(72_000);
      expect(app.server.timeout).toBeGreaterThan(72_000);
      expect(app.initialConfig.bodyLimit).toBe(16 * 1024);
    }
  });
});

describe('manager tokens in logs', () => {
  it('when orders-app runs at trace level and is sent good and bad tokens, then no token appears in its output', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const keyPrefix = testKeyPrefix();
    cleanups.push(() => deleteTestKeys(keyPrefix));
    const [first, second, wrong] = [1, 2, 3].map(() => randomBytes(24).toString('base64url'));
    const orders = await startServiceProcess('orders', await freePort(), {
      DATABASE_URL: database.url,
      REDIS_URL: testEnv.redisUrl,
      KEY_PREFIX: keyPrefix,
      MANAGER_TOKENS: `${first},${second}`,
      MANAGER_TOKEN: '',
      LOG_LEVEL: 'trace',
    });
    cleanups.push(() => orders.stop());

    const post = (token: string) =>
      fetch(`${orders.url}/orders`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: '{"quantity":1}',
      });
    expect((await post(first!)).status).toBe(202);
    expect((await post(second!)).status).toBe(202);
    expect((await post(wrong!)).status).toBe(401);
    await orders.stop();

    const output = orders.output();
    expect(output).toContain('incoming request');
    for (const token of [first!, second!, wrong!]) expect(output).not.toContain(token);
  });

  it('when orders-app starts without a token outside production, then it warns and prints no made-up token', async () => {
    const database = await createTestDatabase();
    cleanups.push(() => database.drop());
    const keyPrefix = testKeyPrefix();
    cleanups.push(() => deleteTestKeys(keyPrefix));
    const orders = await startServiceProcess('orders', await freePort(), {
      DATABASE_URL: database.url,
      REDIS_URL: testEnv.redisUrl,
      KEY_PREFIX: keyPrefix,
      MANAGER_TOKENS: '',
      MANAGER_TOKEN: '',
      LOG_LEVEL: 'trace',
    });
    cleanups.push(() => orders.stop());
    await orders.stop();
    const warning = orders.output().split('\n').find((line) => line.includes('MANAGER_TOKENS is not set'));
    expect(warning).toBeDefined();
    expect(warning).not.toMatch(/[A-Za-z0-9_-]{32,}/);
  });

  it('when orders-app starts with NODE_ENV=production and no token, then it refuses to start and says what is missing', async () => {
    await expect(
      startServiceProcess(
        'orders',
        await freePort(),
        { NODE_ENV: 'production', MANAGER_TOKENS: '', MANAGER_TOKEN: '', DATABASE_URL: 'postgres://nobody@127.0.0.1:1/none' },
        { readyTimeoutMs: 20_000 },
      ),
    ).rejects.toThrow(/exited before it was ready[\s\S]*MANAGER_TOKENS: is required when NODE_ENV=production/);
  });
});
