import type { FastifyInstance } from 'fastify';
import { buildApp as buildInventoryApp } from '@free-lunch/inventory-app';
import { InventoryConfig } from '@free-lunch/inventory-app/config';
import { buildApp as buildKitchenApp } from '@free-lunch/kitchen-app';
import { KitchenConfig } from '@free-lunch/kitchen-app/config';
import { startMarketSimulator, type MarketSimulatorOptions, type RunningMarketSimulator } from '@free-lunch/market-simulator';
import { buildApp as buildOrdersApp } from '@free-lunch/orders-app';
import { OrdersConfig } from '@free-lunch/orders-app/config';
import { parseConfig, serviceDatabaseEnv } from '@free-lunch/service-kit';
import { freePort } from './free-port.js';

/** What the three services share: one database (a schema each), one Redis prefix, one token. */
export interface StackEnvironment {
  /** An admin's URL of the database: the stack provisions each service's roles in it and runs the service as them. */
  databaseUrl: string;
  redisUrl: string;
  keyPrefix: string;
  managerToken: string;
  /** Extra variables for every service (COOK_TIME_MS, CLAIM_IDLE_MS, MARKET_CONCURRENCY, …). */
  env?: Record<string, string>;
  /** Extra variables for one service, over `env` (e.g. its own REDIS_URL). */
  serviceEnv?: Partial<Record<'orders' | 'kitchen' | 'inventory', Record<string, string>>>;
}

export interface InProcessStack {
  orders: FastifyInstance;
  kitchen: FastifyInstance;
  inventory: FastifyInstance;
  market: RunningMarketSimulator;
  /** Base URLs of the three services, listening on random ports of 127.0.0.1. */
  urls: { orders: string; kitchen: string; inventory: string };
  close(): Promise<void>;
}

/**
 * The whole system in this process: the market simulator and the three services, each built by its
 * own `buildApp` exactly as its `server.ts` does, listening on random ports. For end-to-end tests.
 */
export async function startInProcessStack(
  stack: StackEnvironment,
  marketOptions: MarketSimulatorOptions = {},
): Promise<InProcessStack> {
  const market = await startMarketSimulator({ port: 0, logLevel: 'warn', ...marketOptions });
  const env = {
    REDIS_URL: stack.redisUrl,
    KEY_PREFIX: stack.keyPrefix,
    MANAGER_TOKEN: stack.managerToken,
    MARKET_URL: market.url,
    LOG_LEVEL: 'warn',
    PORT: '0',
    ...stack.env,
  };
  const started: FastifyInstance[] = [];
  const listen = async (app: FastifyInstance, port = 0) => {
    started.push(app);
    await app.listen({ host: '127.0.0.1', port });
    const address = app.server.address();
    if (!address || typeof address === 'string') throw new Error('expected a TCP address');
    return `http://127.0.0.1:${address.port}`;
  };
  try {
    // Inventory first, then kitchen, then orders: each one's consumer group exists before its
    // producer starts, although the groups read from the start of the stream either way.
    // orders-app's port is chosen first: the kitchen and the warehouse let the dashboard it serves
    // read them from that origin (CORS).
    const ordersPort = await freePort();
    const dashboardOrigin = { CORS_ORIGINS: `http://127.0.0.1:${ordersPort}`, ...env };
    // Each service as in production: its own PostgreSQL roles, provisioned here as the admin.
    const database = async (schema: 'orders' | 'kitchen' | 'inventory') => ({
      ...(await serviceDatabaseEnv(stack.databaseUrl, schema)),
      ...stack.serviceEnv?.[schema],
    });
    const inventory = await buildInventoryApp(
      parseConfig(InventoryConfig, { ...dashboardOrigin, ...(await database('inventory')) }),
    );
    const inventoryUrl = await listen(inventory);
    const kitchen = await buildKitchenApp(parseConfig(KitchenConfig, { ...dashboardOrigin, ...(await database('kitchen')) }));
    const kitchenUrl = await listen(kitchen);
    // The dashboard orders-app serves reads the kitchen and the warehouse where they listen.
    const orders = await buildOrdersApp(
      parseConfig(OrdersConfig, {
        KITCHEN_PUBLIC_URL: kitchenUrl,
        INVENTORY_PUBLIC_URL: inventoryUrl,
        ...env,
        ...(await database('orders')),
      }),
    );
    const ordersUrl = await listen(orders, ordersPort);
    return {
      orders,
      kitchen,
      inventory,
      market,
      urls: { orders: ordersUrl, kitchen: kitchenUrl, inventory: inventoryUrl },
      async close() {
        for (const app of started.reverse()) await app.close();
        await market.close();
      },
    };
  } catch (error) {
    for (const app of started.reverse()) await app.close().catch(() => {});
    await market.close();
    throw error;
  }
}
