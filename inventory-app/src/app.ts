import { randomBytes } from 'node:crypto';
import { streamNames } from '@free-lunch/contracts';
import { createServiceApp, deadLetterMetrics, streamBacklogMetrics, streamMetrics } from '@free-lunch/service-kit';
import { deadLetterCounts, OutboxRelay, StreamConsumer, StreamJanitor, StreamPublisher, streamBacklog } from '@free-lunch/streams';
import type { FastifyInstance } from 'fastify';
import type { InventoryConfig } from './config.js';
import { countPendingRequests } from './data/requests.js';
import { MarketClient } from './market/market-client.js';
import { inventoryMetrics } from './metrics.js';
import { warehouseRoutes } from './routes/warehouse.js';
import { Allocator } from './use-cases/allocate.js';
import { OUTBOX_TABLE } from './use-cases/events.js';
import { Purchaser } from './use-cases/purchase-shortfalls.js';
import { receiveRequests } from './use-cases/receive-requests.js';

const SERVICE = 'inventory-app';
const SCHEMA = 'inventory';
/** The consumer group every inventory replica joins to share the kitchen's requests. */
const GROUP = 'inventory';

/**
 * The warehouse: takes the kitchen's ingredient requests, hands over whole recipes from stock, buys
 * what is short at the farmers' market, and accounts for every unit. The one way to build it, for
 * the server and for tests.
 */
export async function buildApp(config: InventoryConfig): Promise<FastifyInstance> {
  const app = await createServiceApp(config, {
    service: SERVICE,
    description:
      'Free Lunch warehouse: hands the kitchen every ingredient of a recipe or none, buys shortfalls at the ' +
      "farmers' market with bounded concurrency and backoff, and keeps a ledger that accounts for every unit.",
    schema: SCHEMA,
    root: new URL('..', import.meta.url),
  });

  await app.register(warehouseRoutes);

  const metrics = inventoryMetrics(app.metrics, () => countPendingRequests(app.pg));
  const relay = new OutboxRelay({
    pool: app.pg,
    table: OUTBOX_TABLE,
    publisher: new StreamPublisher(app.redis, { prefix: config.KEY_PREFIX }),
    logger: app.log,
  });
  const allocator = new Allocator({
    pool: app.pg,
    metrics,
    logger: app.log.child({ component: 'allocator' }),
    onDispatched: () => relay.wake(),
  });
  const market = new MarketClient({
    url: config.MARKET_URL,
    concurrency: config.MARKET_CONCURRENCY,
    timeoutMs: config.MARKET_TIMEOUT_MS,
    maxQuantity: config.MARKET_MAX_QUANTITY,
  });
  const purchaser = new Purchaser({
    pool: app.pg,
    connectionString: config.DATABASE_URL,
    market,
    metrics,
    concurrency: config.MARKET_CONCURRENCY,
    backoff: { baseMs: config.MARKET_RETRY_BASE_MS, maxMs: config.MARKET_RETRY_MAX_MS },
    logger: app.log.child({ component: 'purchaser' }),
    onBought: () => allocator.wake(),
    onNewRequests: () => allocator.wake(),
    onRecorded: () => relay.wake(),
  });
  const requests = new StreamConsumer({
    redis: app.redis,
    prefix: config.KEY_PREFIX,
    stream: streamNames.ingredientsRequested,
    group: GROUP,
    consumer: `${config.SERVICE_INSTANCE}-${randomBytes(3).toString('hex')}`,
    handleBatch: (batch) =>
      receiveRequests(
        { pool: app.pg, onEnqueued: () => relay.wake() },
        batch.map((entry) => entry.message),
      ),
    logger: app.log,
    claimIdleMs: config.CLAIM_IDLE_MS,
    lingerMs: config.CONSUMER_LINGER_MS,
    maxDeliveries: config.MAX_DELIVERIES,
    metrics: streamMetrics(app.metrics),
  });
  streamBacklogMetrics(app.metrics, () =>
    streamBacklog(app.redis, config.KEY_PREFIX, [{ stream: streamNames.ingredientsRequested, group: GROUP }]),
  );
  deadLetterMetrics(app.metrics, () => deadLetterCounts(app.redis, config.KEY_PREFIX, [streamNames.ingredientsRequested]));
  const janitor = new StreamJanitor({
    redis: app.redis,
    prefix: config.KEY_PREFIX,
    streams: [streamNames.ingredientsRequested],
    retentionMs: config.STREAM_RETENTION_MS,
    logger: app.log,
  });

  app.addHook('onReady', async () => {
    relay.start();
    allocator.start();
    purchaser.start();
    await requests.start();
    janitor.start();
  });
  // Runs before the postgres and redis plugins close their connections (onClose hooks run in
  // reverse order of registration). The consumer stops first so no batch starts mid-shutdown; the
  // purchaser finishes and records its round (units the market sold must not go unrecorded); the
  // allocator finishes its transaction; the relay then publishes what they committed last.
  app.addHook('onClose', async () => {
    await requests.stop();
    await janitor.stop();
    await purchaser.stop();
    await market.close();
    await allocator.stop();
    await relay.stop();
    await relay
      .flush()
      .catch((error: unknown) => app.log.warn({ err: error }, 'outbox not flushed; the next relay to run publishes it'));
  });

  return app;
}
