import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import {
  recipeBook,
  streamNames,
  type IngredientsDispatchedV1,
  type RecipeName,
  type StockAudit,
  type StockResponse,
} from '@free-lunch/contracts';
import { startMarketSimulator, type MarketSimulatorOptions, type RunningMarketSimulator } from '@free-lunch/market-simulator';
import { parseConfig } from '@free-lunch/service-kit';
import { createTestDatabase, testEnv, testKeyPrefix, type TestDatabase } from '@free-lunch/service-kit/testing';
import { decodeMessage, StreamPublisher, streamKey } from '@free-lunch/streams';
import { buildApp } from '../../src/app.js';
import { InventoryConfig } from '../../src/config.js';

export interface WarehouseOptions {
  /** The simulated market's options (seeded and silent by default). */
  market?: MarketSimulatorOptions;
  /** Extra inventory-app environment, e.g. `{ MARKET_TIMEOUT_MS: '200' }`. */
  env?: Record<string, string>;
  /** How the app reaches its test database, given that database's URL; e.g. through a proxy. */
  databaseUrl?: (url: string) => string;
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

/**
 * One inventory-app on its own database and key prefix, with its own simulated market, and a
 * kitchen's-eye view of it: publish requests, read what it dispatched.
 */
export class TestWarehouse {
  /** The replicas still running; the first one opened is `app`. */
  private readonly apps: FastifyInstance[];

  private constructor(
    readonly app: FastifyInstance,
    readonly market: RunningMarketSimulator,
    readonly database: TestDatabase,
    readonly prefix: string,
    readonly redis: Redis,
  ) {
    this.apps = [app];
  }

  static async open(options: WarehouseOptions = {}): Promise<TestWarehouse> {
    const database = await createTestDatabase();
    const prefix = testKeyPrefix();
    const market = await startMarketSimulator({ logLevel: 'silent', seed: 42, ...options.market });
    const redis = new Redis(testEnv.redisUrl);
    const through = options.databaseUrl;
    const roles = through && (await database.serviceEnv('inventory'));
    const env = roles
      ? { DATABASE_URL: through(roles.DATABASE_URL), MIGRATION_DATABASE_URL: through(roles.MIGRATION_DATABASE_URL), ...options.env }
      : options.env;
    const warehouse = new TestWarehouse(await startApp(database, prefix, market, env), market, database, prefix, redis);
    return warehouse;
  }

  /** Another replica of the same warehouse: same database, same streams, same market. */
  async addReplica(env: Record<string, string> = {}): Promise<FastifyInstance> {
    const replica = await startApp(this.database, this.prefix, this.market, env);
    this.apps.push(replica);
    return replica;
  }

  /** Shuts one replica down, as a deployment would. */
  async stopReplica(app: FastifyInstance): Promise<void> {
    this.apps.splice(this.apps.indexOf(app), 1);
    await app.close();
  }

  /** Publishes requests as the kitchen does, in one pipeline. */
  async request(...requests: Array<ReturnType<typeof ingredientsRequest>>): Promise<void> {
    const publisher = new StreamPublisher(this.redis, { prefix: this.prefix });
    await publisher.publishMany(requests.map((message) => ({ stream: streamNames.ingredientsRequested, message })));
  }

  /** Every `ingredients.dispatched` the warehouse has published so far, oldest first. */
  async dispatched(): Promise<IngredientsDispatchedV1[]> {
    const entries = await this.redis.xrange(streamKey(this.prefix, streamNames.ingredientsDispatched), '-', '+');
    return entries.map(([, fields]) => decodeMessage(streamNames.ingredientsDispatched, fields));
  }

  async stock(app = this.app): Promise<Record<string, number>> {
    const response = await app.inject({ method: 'GET', url: '/stock' });
    const body = response.json<StockResponse>();
    return Object.fromEntries(body.stock.map(({ ingredient, onHand }) => [ingredient, onHand]));
  }

  async audit(app = this.app): Promise<StockAudit> {
    return (await app.inject({ method: 'GET', url: '/stock/audit' })).json<StockAudit>();
  }

  /** Runs `sql` in the inventory schema as its owner, which may change the schema (the warehouse's role may not). */
  async asSchemaOwner(sql: string): Promise<void> {
    const { MIGRATION_DATABASE_URL } = await this.database.serviceEnv('inventory');
    const owner = new pg.Client({ connectionString: MIGRATION_DATABASE_URL, options: '-c search_path=inventory' });
    await owner.connect();
    try {
      await owner.query(sql);
    } finally {
      await owner.end();
    }
  }

  /** Changes the market's behaviour from now on. */
  async configureMarket(patch: MarketSimulatorOptions): Promise<void> {
    const response = await fetch(`${this.market.baseUrl}/config`, {
      method: 'PUT',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(patch),
    });
    if (!response.ok) throw new Error(`market refused ${JSON.stringify(patch)}: ${await response.text()}`);
  }

  async close(): Promise<void> {
    for (const app of this.apps.reverse()) await app.close();
    await this.market.close();
    const keys = await this.redis.keys(`${this.prefix}*`);
    if (keys.length > 0) await this.redis.del(...keys);
    await this.redis.quit();
    await this.database.drop();
  }
}

async function startApp(
  database: TestDatabase,
  prefix: string,
  market: RunningMarketSimulator,
  env: Record<string, string> = {},
): Promise<FastifyInstance> {
  const config = parseConfig(InventoryConfig, {
    ...(await database.serviceEnv('inventory')),
    REDIS_URL: testEnv.redisUrl,
    KEY_PREFIX: prefix,
    LOG_LEVEL: 'warn',
    MARKET_URL: market.url,
    // Quick retries keep tests short; the backoff logic is the same at any scale.
    MARKET_RETRY_BASE_MS: '5',
    MARKET_RETRY_MAX_MS: '40',
    ...env,
  });
  const app = await buildApp(config);
  await app.ready();
  return app;
}
