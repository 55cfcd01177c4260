import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { DashboardConfig } from '@free-lunch/contracts';
import { startOrdersUnderTest, type OrdersUnderTest } from './support/orders-app.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function start(env: Record<string, string>): Promise<OrdersUnderTest> {
  const orders = await startOrdersUnderTest({ env });
  cleanups.push(() => orders.close());
  return orders;
}

/** A directory laid out as `vite build` leaves the dashboard. */
function builtDashboard(): string {
  const dir = mkdtempSync(join(tmpdir(), 'fl-dashboard-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>Free Lunch dashboard</title><script src="/assets/index-abc123.js"></script>');
  writeFileSync(join(dir, 'assets', 'index-abc123.js'), 'console.log("dashboard")');
  return dir;
}

describe('the dashboard orders-app serves', () => {
  it('when the dashboard is built, then / serves it, its hashed files are cached for good, and the API, docs and WebSocket still answer', async () => {
    const { app } = await start({ DASHBOARD_DIR: builtDashboard() });

    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toMatch(/^text\/html/);
    expect(page.body).toContain('Free Lunch dashboard');
    expect(page.headers['cache-control']).toBe('no-cache');

    const script = await app.inject({ method: 'GET', url: '/assets/index-abc123.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['cache-control']).toBe('public, max-age=31536000, immutable');

    expect((await app.inject({ method: 'GET', url: '/orders/summary' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/documentation/json' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/ws' })).statusCode).toBe(426);
    const missing = await app.inject({ method: 'GET', url: '/no-such-page' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found' });
  });

  it('when the dashboard is not built, then / says how to build it', async () => {
    const { app } = await start({ DASHBOARD_DIR: join(tmpdir(), 'fl-no-dashboard-here') });

    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('pnpm --filter @free-lunch/dashboard build');
  });

  it('when the dashboard asks for its settings, then it gets the order maximum and where the kitchen and warehouse answer, without a token', async () => {
    const { app } = await start({
      MAX_ORDER_QUANTITY: '250',
      KITCHEN_PUBLIC_URL: 'https://kitchen.example.com/',
      INVENTORY_PUBLIC_URL: 'https://inventory.example.com',
    });

    const response = await app.inject({ method: 'GET', url: '/config' });
    expect(response.statusCode).toBe(200);
    expect(response.json<DashboardConfig>()).toEqual({
      maxOrderQuantity: 250,
      kitchenUrl: 'https://kitchen.example.com',
      inventoryUrl: 'https://inventory.example.com',
    });
  });
});
