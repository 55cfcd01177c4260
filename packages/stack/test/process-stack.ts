import { randomBytes } from 'node:crypto';
import { startMarketSimulator, type MarketOptions } from '@free-lunch/market-simulator';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix } from '@free-lunch/service-kit/testing';
import { FreeLunchClient, freePort, PortTakenError, startServiceProcess, type ServiceName, type ServiceProcess } from '../src/index.js';

export interface ProcessStack {
  /** Starts a service as a process of its own on a free port; it is stopped after the test. */
  start(name: ServiceName): Promise<ServiceProcess>;
  /** The public API of these processes. */
  client(services: Record<'orders' | 'kitchen' | 'inventory', ServiceProcess>): FreeLunchClient;
  /** The services' KEY_PREFIX: every Redis key of this stack starts with it. */
  keyPrefix: string;
}

/**
 * What a test of processes in trouble needs: a database and key prefix of its own, a slow, stingy
 * market that keeps a burst in flight long enough for the trouble to land in it, and the services'
 * environment, with every recovery setting at its default. Whatever it opens goes on `cleanups`,
 * for the test's afterEach to undo in reverse.
 */
export async function processStack(
  cleanups: Array<() => Promise<void>>,
  {
    seed,
    market: marketOptions = {},
    databaseUrl = (url) => url,
    env: extraEnv = {},
  }: {
    seed: number;
    /** A slower or stingier market still, for a test whose trouble must land in a longer burst. */
    market?: Partial<Pick<MarketOptions, 'latencyMs' | 'maxQuantity'>>;
    /** How the services reach their database, given its URL; e.g. through a proxy. */
    databaseUrl?: (url: string) => string;
    env?: Record<string, string>;
  },
): Promise<ProcessStack> {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const market = await startMarketSimulator({ port: 0, logLevel: 'warn', latencyMs: 15, zeroRate: 0.5, ...marketOptions, seed });
  cleanups.push(() => market.close());
  const managerToken = randomBytes(24).toString('hex');
  const keyPrefix = testKeyPrefix();
  cleanups.push(() => deleteTestKeys(keyPrefix));
  // Each service as in production: its own PostgreSQL roles (provisioned as the admin), reached
  // through `databaseUrl`.
  const roles = {} as Record<'orders' | 'kitchen' | 'inventory', Record<string, string>>;
  for (const schema of ['orders', 'kitchen', 'inventory'] as const) {
    const { DATABASE_URL, MIGRATION_DATABASE_URL } = await database.serviceEnv(schema);
    roles[schema] = { DATABASE_URL: databaseUrl(DATABASE_URL), MIGRATION_DATABASE_URL: databaseUrl(MIGRATION_DATABASE_URL) };
  }
  const env = {
    REDIS_URL: testEnv.redisUrl,
    KEY_PREFIX: keyPrefix,
    MANAGER_TOKEN: managerToken,
    MARKET_URL: market.url,
    LOG_LEVEL: 'warn',
    COOK_TIME_MS: '300',
    // Reclaims, re-drives and retries run with their defaults: these tests prove the defaults recover fast.
    ...extraEnv,
  };
  return {
    keyPrefix,
    async start(name) {
      for (let attempt = 1; ; attempt += 1) {
        try {
          const service = await startServiceProcess(name, await freePort(), { ...env, ...(name === 'market' ? {} : roles[name]) });
          cleanups.push(() => service.stop());
          return service;
        } catch (error) {
          // Tests run in parallel, each starting processes on ports found free a moment before.
          if (!(error instanceof PortTakenError) || attempt === 3) throw error;
        }
      }
    },
    client: ({ orders, kitchen, inventory }) =>
      new FreeLunchClient({ orders: orders.url, kitchen: kitchen.url, inventory: inventory.url }, managerToken),
  };
}
