import type { FastifyInstance } from 'fastify';
import { streamNames } from '@free-lunch/contracts';
import { createServiceApp, registerBackground } from '@free-lunch/service-kit';
import { OutboxRelay, StreamJanitor, StreamPublisher, type PublishCommitted } from '@free-lunch/streams';
import type { InventoryConfig } from './config.js';
import { ingredientRequestsConsumer } from './consumers/ingredient-requests.js';
import { countPendingRequests } from './data/requests.js';
import { OUTBOX_TABLE } from './data/schema.js';
import { inventoryMetrics } from './metrics.js';
import { warehouseRoutes } from './routes/warehouse.js';
import { allocator } from './workers/allocator.js';
import { purchaser } from './workers/purchaser.js';

/**
 * The warehouse: takes the kitchen's ingredient requests, hands over whole recipes from stock, buys
 * what is short at the farmers' market, and accounts for every unit. The one way to build it, for
 * the server and for tests.
 */
export async function buildApp(config: InventoryConfig): Promise<FastifyInstance> {
  const app = await createServiceApp(config, {
    service: 'inventory-app',
    description:
      'Free Lunch warehouse: hands the kitchen every ingredient of a recipe or none, buys shortfalls at the ' +
      "farmers' market with bounded concurrency and backoff, and keeps a ledger that accounts for every unit.",
    schema: 'inventory',
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
  const publishNow: PublishCommitted = (rows) => relay.publishCommitted(rows);
  const allocation = allocator(app, { metrics, publishNow });

  registerBackground(app, {
    consumers: [ingredientRequestsConsumer(app, config, publishNow)],
    workers: [
      allocation,
      purchaser(app, config, { metrics, allocateNow: () => allocation.wake(), publishNow }),
      new StreamJanitor({
        redis: app.redis,
        prefix: config.KEY_PREFIX,
        streams: [streamNames.ingredientsRequested],
        retentionMs: config.STREAM_RETENTION_MS,
        logger: app.log,
      }),
    ],
    relay,
  });
  return app;
}
