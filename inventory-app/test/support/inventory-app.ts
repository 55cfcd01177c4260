import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import {
  recipeBook,
  streamNames,
  type IngredientsDispatchedV1,
  type RecipeName,
  type StockAudit,
  type StockResponse,
} from '@free-lunch/contracts';
import { startMarketSimulator, type MarketSimulatorOptions, type RunningMarketSimulator } from '@free-lunch/market-simulator';
import { startServiceUnderTest, type ServiceUnderTest, type UnderTestOptions } from '@free-lunch/service-kit/testing';
import { decodeMessage, StreamPublisher, streamKey } from '@free-lunch/streams';
import { buildApp } from '../../src/app.js';
import { InventoryConfig } from '../../src/config.js';

/**
 * inventory-app under test (see startServiceUnderTest) with a simulated market of its own, seen as
 * the kitchen sees it: a publisher for its requests; its dispatches are read with XRANGE.
 */
export type InventoryUnderTest = ServiceUnderTest<InventoryConfig> & { publisher: StreamPublisher; market: RunningMarketSimulator };

/**
 * inventory-app built as server.ts builds it, on its own database and key prefix, buying from a
 * simulated market (seeded, silent; `options.market` changes it) that closes with it.
 */
export async function startInventoryUnderTest(
  options: UnderTestOptions & { market?: MarketSimulatorOptions } = {},
): Promise<InventoryUnderTest> {
  const { market: marketOptions, ...start } = options;
  const market = await startMarketSimulator({ logLevel: 'silent', seed: 42, ...marketOptions });
  let warehouse: ServiceUnderTest<InventoryConfig>;
  try {
    warehouse = await startServiceUnderTest({
      schema: 'inventory',
      config: InventoryConfig,
      buildApp,
      // Quick retries keep tests short; the backoff logic is the same at any scale.
      defaults: { MARKET_URL: market.url, MARKET_RETRY_BASE_MS: '5', MARKET_RETRY_MAX_MS: '40' },
      ...start,
    });
  } catch (error) {
    await market.close();
    throw error;
  }
  warehouse.onClose(() => market.close());
  return Object.assign(warehouse, { publisher: new StreamPublisher(warehouse.redis, { prefix: warehouse.keyPrefix }), market });
}

/** A request the kitchen would send; a fresh order id unless one is given. */
export function ingredientsRequest(recipe: RecipeName, orderId: string = randomUUID()) {
  return {
    type: 'ingredients.requested' as const,
    version: 1 as const,
    orderId,
    recipe,
    ingredients: [...recipeBook[recipe]],
    requestedAt: new Date().toISOString(),
  };
}

/** Publishes requests as the kitchen does, in one pipeline. */
export async function requestIngredients(
  warehouse: InventoryUnderTest,
  ...requests: Array<ReturnType<typeof ingredientsRequest>>
): Promise<void> {
  await warehouse.publisher.publishMany(requests.map((message) => ({ stream: streamNames.ingredientsRequested, message })));
}

/** Every `ingredients.dispatched` the warehouse has published so far, oldest first. */
export async function dispatchesOf(warehouse: InventoryUnderTest): Promise<IngredientsDispatchedV1[]> {
  const entries = await warehouse.redis.xrange(streamKey(warehouse.keyPrefix, streamNames.ingredientsDispatched), '-', '+');
  return entries.map(([, fields]) => decodeMessage(streamNames.ingredientsDispatched, fields));
}

/** Units on hand per ingredient, from GET /stock of `app` (the warehouse's first instance unless given). */
export async function stockOf(warehouse: InventoryUnderTest, app: FastifyInstance = warehouse.app): Promise<Record<string, number>> {
  const response = await app.inject({ method: 'GET', url: '/stock' });
  const body = response.json<StockResponse>();
  return Object.fromEntries(body.stock.map(({ ingredient, onHand }) => [ingredient, onHand]));
}

/** GET /stock/audit of `app` (the warehouse's first instance unless given). */
export async function auditOf(warehouse: InventoryUnderTest, app: FastifyInstance = warehouse.app): Promise<StockAudit> {
  return (await app.inject({ method: 'GET', url: '/stock/audit' })).json<StockAudit>();
}

/** Changes the market's behaviour from now on. */
export async function configureMarket(warehouse: InventoryUnderTest, patch: MarketSimulatorOptions): Promise<void> {
  const response = await fetch(`${warehouse.market.baseUrl}/config`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(patch),
  });
  if (!response.ok) throw new Error(`market refused ${JSON.stringify(patch)}: ${await response.text()}`);
}
