import { randomBytes } from 'node:crypto';
import type { Page, WebSocket as PageWebSocket } from 'playwright-core';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  ingredients,
  recipeBook,
  recipeNames,
  type Ingredient,
  type OrderSummaryItem,
  type PurchasePage,
  type RecipeName,
} from '@free-lunch/contracts';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { FreeLunchClient, startInProcessStack, type InProcessStack } from '@free-lunch/stack';
import { ensureDashboardBuilt } from '../scripts/ensure-built.js';
import { openBrowser, screenshot, type OpenBrowser } from './support/browser.js';

// orders-app serves packages/dashboard/dist: build it first if the sources are newer (about a second).
beforeAll(async () => {
  await ensureDashboardBuilt();
}, 120_000);

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function startStack(env: Record<string, string>, market: Parameters<typeof startInProcessStack>[1] = {}) {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const managerToken = randomBytes(24).toString('hex');
  const keyPrefix = testKeyPrefix();
  cleanups.push(() => deleteTestKeys(keyPrefix));
  const stack: InProcessStack = await startInProcessStack(
    { databaseUrl: database.url, redisUrl: testEnv.redisUrl, keyPrefix, managerToken, env },
    market,
  );
  cleanups.push(() => stack.close());
  return { stack, managerToken, client: new FreeLunchClient(stack.urls, managerToken) };
}

async function browse(viewport?: { width: number; height: number }): Promise<OpenBrowser> {
  const browser = await openBrowser(viewport);
  cleanups.push(() => browser.close());
  return browser;
}

/**
 * Every Content-Security-Policy violation the page's documents report, as "directive: blocked URI",
 * gathered across navigations (each new document reports into the page's console).
 */
function recordCspViolations(page: Page): () => Promise<string[]> {
  const seen: string[] = [];
  void page.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (event) =>
      console.error(`csp-violation ${event.effectiveDirective}: ${event.blockedURI} on ${location.pathname}`),
    );
  });
  page.on('console', (message) => {
    const text = message.text();
    if (text.startsWith('csp-violation ') || text.includes('Content Security Policy')) seen.push(text);
  });
  return async () => seen;
}

/** Every WebSocket frame the page sends and receives, parsed. */
function recordSockets(page: Page) {
  const sockets: Array<{ sent: any[]; received: any[] }> = [];
  page.on('websocket', (socket: PageWebSocket) => {
    if (!socket.url().endsWith('/ws')) return;
    const record = { sent: [] as any[], received: [] as any[] };
    sockets.push(record);
    socket.on('framesent', (frame) => record.sent.push(JSON.parse(String(frame.payload))));
    socket.on('framereceived', (frame) => record.received.push(JSON.parse(String(frame.payload))));
  });
  return sockets;
}

async function signIn(page: Page, url: string, token: string): Promise<void> {
  await page.goto(url);
  await page.getByLabel('Manager token').fill(token);
  await page.getByRole('button', { name: 'Open the dashboard' }).click();
}

/** Signs in and waits until the page is live and has loaded the restaurant. */
async function openDashboard(page: Page, url: string, token: string): Promise<void> {
  await signIn(page, url, token);
  await expect.poll(() => page.getByTestId('connection').textContent()).toBe('Live');
  await page.getByTestId('stock').waitFor();
}

/** A counter as a number ("1,020" → 1020). */
async function counter(page: Page, testId: string): Promise<number> {
  return Number((await page.getByTestId(testId).textContent())!.replace(/\D/g, ''));
}

async function pageStock(page: Page): Promise<Record<Ingredient, number>> {
  const stock = {} as Record<Ingredient, number>;
  for (const ingredient of ingredients) stock[ingredient] = Number(await page.getByTestId(`stock-${ingredient}`).textContent());
  return stock;
}

async function apiStock(client: FreeLunchClient): Promise<Record<Ingredient, number>> {
  const { stock } = await client.stock();
  return Object.fromEntries(stock.map((level) => [level.ingredient, level.onHand])) as Record<Ingredient, number>;
}

async function historyIds(page: Page): Promise<string[]> {
  return page.getByTestId('history').locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-order-id')!));
}

const slowly = { timeout: 45_000 };

describe('the manager dashboard, in a real browser', () => {
  it('when the manager orders 20 dishes from the page, then they wait for what the market lacks, are delivered into the history, and stock and purchases follow live', async () => {
    // The market starts with nothing to sell (and some faults), so orders beyond the initial stock wait.
    const { stack, managerToken, client } = await startStack(
      { COOK_TIME_MS: '100', MARKET_RETRY_BASE_MS: '20', MARKET_RETRY_MAX_MS: '200' },
      { zeroRate: 1, failureRate: 0.25, faultKinds: ['http500'] },
    );
    const { page } = await browse();
    await page.goto(stack.urls.orders);
    await screenshot(page, 'token-prompt');
    await openDashboard(page, stack.urls.orders, managerToken);

    // The six recipes, as the kitchen lists them.
    const recipes = page.getByTestId('recipes').locator('[data-recipe]');
    await expect.poll(() => recipes.evaluateAll((items) => items.map((item) => item.getAttribute('data-recipe')).sort())).toEqual(
      [...recipeNames].sort(),
    );
    await expect.poll(() => page.getByTestId('recipes').locator('[data-recipe="pizza"]').textContent()).toMatch(/Cheese.*× 2.*Tomato.*× 3/);
    expect(await pageStock(page)).toEqual(Object.fromEntries(ingredients.map((name) => [name, 5])));

    await page.getByLabel('How many dishes').fill('20');
    await page.getByRole('button', { name: 'Order 20 dishes' }).click();
    await expect.poll(() => page.getByTestId('order-outcome').textContent()).toBe('20 dishes ordered.');
    expect(await counter(page, 'count-placed')).toBe(20);

    // 20 dishes need at least 80 units and the warehouse holds 50: some orders must wait, and the
    // page says for which ingredients — those it shows fewer of than the recipe needs.
    await expect.poll(() => counter(page, 'count-awaiting'), slowly).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('column-awaiting_ingredients').locator('[data-ingredient]').count(), slowly).toBeGreaterThan(0);
    await expect.poll(() => page.getByTestId('purchases').locator('[data-outcome="none"]').count(), slowly).toBeGreaterThan(0);
    await expect.poll(async () => JSON.stringify(await pageStock(page)), slowly).toBe(JSON.stringify(await apiStock(client)));
    const stock = await pageStock(page);
    const waiting = await page
      .getByTestId('column-awaiting_ingredients')
      .locator('.ticket[data-recipe]')
      .evaluateAll((tickets) =>
        tickets.map((ticket) => ({
          recipe: ticket.getAttribute('data-recipe'),
          waitingFor: [...ticket.querySelectorAll('[data-ingredient]')].map((chip) => chip.getAttribute('data-ingredient')),
        })),
      );
    expect(waiting.length).toBeGreaterThan(0);
    for (const ticket of waiting) {
      const short = recipeBook[ticket.recipe as RecipeName].filter((need) => stock[need.ingredient] < need.quantity).map((need) => need.ingredient);
      expect(ticket.waitingFor).toEqual(short);
    }
    await screenshot(page, 'dashboard-waiting-for-the-market');

    // The market opens: every order is delivered, and the page's figures match the API's.
    const opened = await fetch(`${stack.market.baseUrl}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ zeroRate: 0.3, failureRate: 0.05 }),
    });
    expect(opened.ok).toBe(true);
    await expect.poll(() => counter(page, 'count-delivered'), slowly).toBe(20);
    expect(await counter(page, 'count-in-preparation')).toBe(0);
    await expect.poll(async () => JSON.stringify(await pageStock(page)), slowly).toBe(JSON.stringify(await apiStock(client)));

    const delivered: OrderSummaryItem[] = await client.allOrders('delivered');
    expect(delivered).toHaveLength(20);
    const firstPage = await historyIds(page);
    expect(firstPage).toHaveLength(15);
    await page.getByRole('button', { name: 'Older' }).click();
    await expect.poll(() => historyIds(page).then((ids) => ids.length)).toBe(5);
    const secondPage = await historyIds(page);
    expect([...firstPage, ...secondPage].sort()).toEqual(delivered.map((order) => order.id).sort());
    await page.getByRole('button', { name: 'Back to newest' }).click();
    await expect.poll(() => historyIds(page).then((ids) => ids.length)).toBe(15);

    // Every market attempt is listed, the ones that sold nothing and the faults too.
    const purchases: PurchasePage = await (await fetch(`${stack.urls.inventory}/purchases?limit=25`)).json();
    await expect
      .poll(() => page.getByTestId('purchases').locator('tbody tr').evaluateAll((rows) => rows.map((row) => row.getAttribute('data-purchase-id'))))
      .toEqual(purchases.items.map((purchase) => purchase.id));
    const outcomes = new Set(purchases.items.map((purchase) => purchase.outcome));
    for (const outcome of outcomes) expect(await page.getByTestId('purchases').locator(`[data-outcome="${outcome}"]`).count()).toBeGreaterThan(0);

    await screenshot(page, 'dashboard-1280');
    await page.getByRole('button', { name: 'Español (Colombia)' }).click();
    await expect.poll(() => page.getByRole('heading', { name: 'Pedidos entregados' }).count()).toBe(1);
    await page.setViewportSize({ width: 390, height: 844 });
    await screenshot(page, 'dashboard-390-es');
    await page.reload();
    // The language choice and the token outlive a reload (sessionStorage keeps the token for this tab).
    await expect.poll(() => page.getByTestId('connection').textContent()).toBe('En vivo');
  }, 120_000);

  it('when the connection drops and orders are delivered meanwhile, then the page reconnects by itself and shows each of them exactly once', async () => {
    const { stack, managerToken, client } = await startStack({ COOK_TIME_MS: '20' });
    const { page, context } = await browse();
    const sockets = recordSockets(page);
    await openDashboard(page, stack.urls.orders, managerToken);
    await page.getByRole('button', { name: 'Order one dish' }).click();
    await expect.poll(() => counter(page, 'count-delivered'), slowly).toBe(1);

    // Cut the socket from the server's side and keep the browser offline so it cannot come back yet.
    await context.setOffline(true);
    for (const socket of stack.orders.websocketServer.clients) socket.terminate();
    await expect.poll(() => page.getByTestId('connection').textContent()).toBe('Disconnected');
    await expect.poll(() => page.getByTestId('connection-lost').isVisible()).toBe(true);
    await screenshot(page, 'dashboard-disconnected');

    await client.placeOrders(30);
    const counts = await client.waitForDelivered(31);
    expect(await counter(page, 'count-delivered')).toBe(1);

    await context.setOffline(false);
    await expect.poll(() => page.getByTestId('connection').textContent(), slowly).toBe('Live');
    await expect.poll(() => counter(page, 'count-delivered'), slowly).toBe(counts.delivered);
    expect(await counter(page, 'count-placed')).toBe(counts.total);
    expect(await counter(page, 'count-in-preparation')).toBe(0);
    const ids = await historyIds(page);
    expect(new Set(ids).size).toBe(ids.length);
    const delivered = new Set((await client.allOrders('delivered')).map((order) => order.id));
    expect(ids.every((id) => delivered.has(id))).toBe(true);

    // The page resumed from where it was rather than starting over.
    const [first, ...reconnections] = sockets.filter((socket) => socket.received.some((frame) => frame.type === 'ready'));
    expect(first!.sent[0]).toEqual({ type: 'auth', token: managerToken });
    const resumed = reconnections.at(-1)!.sent[0];
    expect(Object.keys(resumed.resumeFrom).sort()).toEqual(
      ['inventory.purchase-recorded', 'inventory.stock-changed', 'kitchen.order-status-changed'],
    );
    const replayed = reconnections.flatMap((socket) => socket.received.filter((frame) => frame.type === 'events').flatMap((frame) => frame.events));
    const replayedDeliveries = new Set(replayed.filter((event: any) => event.message.status === 'delivered').map((event: any) => event.message.orderId));
    expect(replayedDeliveries.size).toBe(30);
  }, 120_000);

  it('when the page was away longer than the live view replays, then it is told to reload, starts over from the API and shows the true counts', async () => {
    const { stack, managerToken, client } = await startStack({ COOK_TIME_MS: '20', WS_MAX_REPLAY_AGE_MS: '1000' });
    const { page, context } = await browse();
    const sockets = recordSockets(page);
    await openDashboard(page, stack.urls.orders, managerToken);
    await page.getByRole('button', { name: 'Order one dish' }).click();
    await expect.poll(() => counter(page, 'count-delivered'), slowly).toBe(1);

    await context.setOffline(true);
    for (const socket of stack.orders.websocketServer.clients) socket.terminate();
    await expect.poll(() => page.getByTestId('connection').textContent()).toBe('Disconnected');
    await client.placeOrders(12);
    const counts = await client.waitForDelivered(13);
    // Past the replay window: the position the page holds is now too old to resume from.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await context.setOffline(false);

    await expect.poll(() => page.getByTestId('connection').textContent(), slowly).toBe('Live');
    await expect.poll(() => counter(page, 'count-delivered'), slowly).toBe(counts.delivered);
    expect(await counter(page, 'count-placed')).toBe(counts.total);
    const refusals = sockets.flatMap((socket) => socket.received).filter((frame) => frame.type === 'error');
    expect(refusals.map((frame) => frame.error)).toContain('resume_too_old');
    // After the refusal the page connected without a position.
    const last = sockets.filter((socket) => socket.received.some((frame) => frame.type === 'ready')).at(-1)!;
    expect(last.sent[0]).toEqual({ type: 'auth', token: managerToken });
  }, 120_000);

  it('when the dashboard and every Swagger UI load under the services\' Content-Security-Policy, then nothing is blocked', async () => {
    const { stack, managerToken } = await startStack({ COOK_TIME_MS: '20' });
    const { page } = await browse();
    const violations = recordCspViolations(page);
    await openDashboard(page, stack.urls.orders, managerToken);
    // The cross-origin reads went through: the kitchen's recipes and the warehouse's stock are shown.
    await expect.poll(() => page.getByTestId('recipes').locator('[data-recipe]').count()).toBe(6);
    expect(await pageStock(page)).toEqual(Object.fromEntries(ingredients.map((ingredient) => [ingredient, 5])));

    for (const url of Object.values(stack.urls)) {
      await page.goto(`${url}/documentation`);
      await page.locator('.swagger-ui .info .title').waitFor();
    }
    expect(await violations()).toEqual([]);
  }, 60_000);

  it('when the token is wrong, then the page says so, asks again, and nothing streams', async () => {
    const { stack, client } = await startStack({ COOK_TIME_MS: '20' });
    const { page } = await browse();
    const sockets = recordSockets(page);
    await signIn(page, stack.urls.orders, 'not-the-manager-token');

    await expect.poll(() => page.getByRole('alert').textContent()).toBe('That manager token is wrong. Check it and try again.');
    await expect.poll(() => page.getByLabel('Manager token').isVisible()).toBe(true);
    expect(await page.evaluate(() => sessionStorage.getItem('free-lunch.manager-token'))).toBeNull();
    await screenshot(page, 'wrong-token');

    await client.placeOrders(3);
    await client.waitForDelivered(3);
    expect(await page.getByTestId('count-delivered').count()).toBe(0);
    expect(sockets).toHaveLength(1);
    expect(sockets[0]!.received).toEqual([{ type: 'error', error: 'unauthorized', message: expect.any(String) }]);
  }, 60_000);
});
