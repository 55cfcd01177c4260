import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { recipeBook, recipeNames, streamNames, type RecipesResponse } from '@free-lunch/contracts';
import { eventually } from '@free-lunch/service-kit/testing';
import { deadLetterCount, dispatch, type KitchenUnderTest, placeOrder, requestFor, requestsSent, settled, startKitchenUnderTest, statusesAnnounced, statusesUntil, ticketCount } from './support/kitchen-app.js';

let kitchen: KitchenUnderTest | undefined;

async function startKitchen(cookTimeMs: number): Promise<KitchenUnderTest> {
  kitchen = await startKitchenUnderTest({ env: { COOK_TIME_MS: String(cookTimeMs) } });
  return kitchen;
}

afterEach(async () => {
  await kitchen?.close();
  kitchen = undefined;
});

describe('kitchen: opening tickets', () => {
  it('when an order is placed, then the warehouse is asked for its recipe’s exact ingredients and the order is awaiting them', async () => {
    const k = await startKitchen(0);
    const orderId = await placeOrder(k);

    const request = await requestFor(k, orderId);
    expect(recipeNames).toContain(request.recipe);
    expect(request.ingredients).toEqual(recipeBook[request.recipe]);

    const [status] = await statusesUntil(k, orderId, 'awaiting_ingredients');
    expect(status).toMatchObject({ status: 'awaiting_ingredients', recipe: request.recipe, at: request.requestedAt });
  });

  it('when the same order is placed again and again, then it keeps one ticket and every re-sent request is for its first recipe', async () => {
    const k = await startKitchen(0);
    const orderId = await placeOrder(k);
    const first = await requestFor(k, orderId);

    // One at a time, so each copy is a separate re-drive: a kitchen that drew a new recipe each
    // time would be caught with probability 1 − (1/6)^6.
    for (let copies = 2; copies <= 7; copies += 1) {
      await placeOrder(k, orderId);
      await eventually(`request #${copies}`, async () => expect(await requestsSent(k, orderId)).toHaveLength(copies));
    }

    const requests = await requestsSent(k, orderId);
    expect(requests).toHaveLength(7);
    for (const request of requests) {
      expect(request).toMatchObject({ recipe: first.recipe, ingredients: first.ingredients, requestedAt: first.requestedAt });
    }
    const statuses = await statusesAnnounced(k, orderId);
    expect(new Set(statuses.map((s) => `${s.status}/${s.recipe}/${s.at}`))).toEqual(
      new Set([`awaiting_ingredients/${first.recipe}/${first.requestedAt}`]),
    );
    expect(await ticketCount(k, orderId)).toBe(1);
  });

  it('when many orders arrive at once, then each gets exactly one ticket and one ingredients request', async () => {
    const k = await startKitchen(0);
    const orderIds = Array.from({ length: 300 }, () => randomUUID());
    await k.publisher.publishMany(
      orderIds.map((orderId) => ({
        stream: streamNames.orderPlaced,
        message: { type: 'order.placed' as const, version: 1 as const, orderId, placedAt: new Date().toISOString() },
      })),
    );

    await settled(k);
    const requests = await requestsSent(k);
    expect(requests.map((r) => r.orderId).sort()).toEqual([...orderIds].sort());
    for (const request of requests) expect(request.ingredients).toEqual(recipeBook[request.recipe]);
  });
});

describe('kitchen: cooking and delivering', () => {
  it.each([0, 200])(
    'when the ingredients arrive (COOK_TIME_MS=%i), then the dish cooks and is delivered once the time is up, statuses in order',
    async (cookTimeMs) => {
      const k = await startKitchen(cookTimeMs);
      const orderId = await placeOrder(k);
      const request = await requestFor(k, orderId);

      await dispatch(k, request);
      const statuses = await statusesUntil(k, orderId, 'delivered');

      expect(statuses.map((s) => s.status)).toEqual(['awaiting_ingredients', 'cooking', 'delivered']);
      expect(statuses.every((s) => s.recipe === request.recipe)).toBe(true);
      const [, cooking, delivered] = statuses;
      // From the kitchen's own timestamps: the dish spent at least the cook time on the stove.
      expect(Date.parse(delivered!.at) - Date.parse(cooking!.at)).toBeGreaterThanOrEqual(cookTimeMs);
    },
  );

  it('when the same ingredients are dispatched twice, then the dish is cooked and delivered once', async () => {
    const k = await startKitchen(0);
    const orderId = await placeOrder(k);
    const request = await requestFor(k, orderId);

    await dispatch(k, request);
    await dispatch(k, request);
    await statusesUntil(k, orderId, 'delivered');
    await settled(k);

    expect((await statusesAnnounced(k, orderId)).map((s) => s.status)).toEqual(['awaiting_ingredients', 'cooking', 'delivered']);
  });

  it('when ingredients arrive for an order the kitchen never saw, then they are ignored (counted, not dead-lettered) and the kitchen carries on', async () => {
    const k = await startKitchen(0);
    const stranger = randomUUID();
    await dispatch(k, { orderId: stranger, recipe: 'pizza', ingredients: [...recipeBook.pizza] });

    const orderId = await placeOrder(k);
    await dispatch(k, await requestFor(k, orderId));
    await statusesUntil(k, orderId, 'delivered');
    await settled(k);

    expect(await statusesAnnounced(k, stranger)).toEqual([]);
    expect(await ticketCount(k, stranger)).toBe(0);
    expect(await deadLetterCount(k, streamNames.ingredientsDispatched)).toBe(0);
    const metrics = await k.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/kitchen_dispatches_ignored_total\{reason="unknown_order"[^}]*\} 1\b/);
  });

  it('when a poison message reaches the kitchen, then /metrics shows it waiting in the dead letters, also after a restart', async () => {
    const k = await startKitchen(0);
    await k.redis.xadd(`${k.keyPrefix}${streamNames.orderPlaced}`, '*', 'm', '{"type":"order.placed","version":1}');
    await eventually('the poison message to be dead-lettered', async () => expect(await deadLetterCount(k, streamNames.orderPlaced)).toBe(1));

    const deadLetters = async () => (await k.app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(await deadLetters()).toMatch(/^stream_dead_letters\{stream="orders\.placed"[^}]*\} 1$/m);
    expect(await deadLetters()).toMatch(/^stream_dead_letters\{stream="inventory\.ingredients-dispatched"[^}]*\} 0$/m);

    // Read from Redis, not counted by the process: a new kitchen (or another replica) shows it too.
    await k.stop();
    await k.start();
    expect(await deadLetters()).toMatch(/^stream_dead_letters\{stream="orders\.placed"[^}]*\} 1$/m);
  });

  it('when the kitchen has finished its orders, then its janitor trims them from both of its streams once they are older than STREAM_RETENTION_MS', async () => {
    kitchen = await startKitchenUnderTest({ env: { COOK_TIME_MS: '0', STREAM_RETENTION_MS: '0' } });
    const k = kitchen;
    for (let i = 0; i < 3; i += 1) {
      const orderId = await placeOrder(k);
      await dispatch(k, await requestFor(k, orderId));
      await statusesUntil(k, orderId, 'delivered');
    }
    await settled(k);

    // The janitor trims as it starts, then every 15 s: a restart makes it trim now.
    await k.stop();
    await k.start();
    const lengths = () =>
      Promise.all([streamNames.orderPlaced, streamNames.ingredientsDispatched].map((stream) => k.redis.xlen(`${k.keyPrefix}${stream}`)));
    // Each keeps its group's last delivered entry.
    await eventually('the finished entries to be trimmed', async () => expect(await lengths()).toEqual([1, 1]));
  });

  it('when the kitchen restarts while a dish is cooking, then the new kitchen still delivers it, once', async () => {
    const k = await startKitchen(2000);
    const orderId = await placeOrder(k);
    await dispatch(k, await requestFor(k, orderId));
    await statusesUntil(k, orderId, 'cooking');

    await k.stop();
    expect((await statusesAnnounced(k, orderId)).map((s) => s.status)).toEqual(['awaiting_ingredients', 'cooking']);

    await k.start();
    await statusesUntil(k, orderId, 'delivered');
    await settled(k);
    expect((await statusesAnnounced(k, orderId)).map((s) => s.status)).toEqual(['awaiting_ingredients', 'cooking', 'delivered']);
  });

  it('when a delivered order is nudged (placed again), then its statuses are re-announced with their first times and nothing is re-requested', async () => {
    const k = await startKitchen(0);
    const orderId = await placeOrder(k);
    await dispatch(k, await requestFor(k, orderId));
    const original = await statusesUntil(k, orderId, 'delivered');
    await settled(k);

    await placeOrder(k, orderId);
    const all = await eventually('the statuses to be re-announced', async () => {
      const statuses = await statusesAnnounced(k, orderId);
      expect(statuses.length).toBeGreaterThanOrEqual(6);
      return statuses;
    });
    await settled(k);

    expect(all.slice(3)).toEqual(original);
    expect(await requestsSent(k, orderId)).toHaveLength(1);
  });
});

describe('kitchen: recipes', () => {
  it('when the manager asks for the recipes, then all six are listed with the quantities of the shared recipe book', async () => {
    const k = await startKitchen(0);

    const response = await k.app.inject({ method: 'GET', url: '/recipes' });

    expect(response.statusCode).toBe(200);
    expect(response.json<RecipesResponse>()).toEqual({
      recipes: recipeNames.map((name) => ({ name, ingredients: recipeBook[name] })),
    });
    // No origin is configured (CORS_ORIGINS), so no page of another origin may read them.
    const fromElsewhere = await k.app.inject({ method: 'GET', url: '/recipes', headers: { origin: 'https://evil.example' } });
    expect(fromElsewhere.headers['access-control-allow-origin']).toBeUndefined();
  });

  it('when the API documentation is opened, then GET /recipes is described with its response schema', async () => {
    const k = await startKitchen(0);

    const response = await k.app.inject({ method: 'GET', url: '/documentation/json' });

    const operation = response.json<{ paths: Record<string, { get?: { responses?: Record<string, unknown> } }> }>()
      .paths['/recipes']?.get;
    expect(JSON.stringify(operation?.responses?.['200'])).toContain('rice_with_chicken');
  });
});
