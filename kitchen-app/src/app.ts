import { createServiceApp, deadLetterMetrics, streamBacklogMetrics, streamMetrics } from '@free-lunch/service-kit';
import { streamNames } from '@free-lunch/contracts';
import { deadLetterCounts, OutboxRelay, StreamJanitor, StreamPublisher, streamBacklog } from '@free-lunch/streams';
import type { FastifyInstance } from 'fastify';
import type { KitchenConfig } from './config.js';
import { KITCHEN_GROUP, kitchenConsumers } from './consumers.js';
import { KITCHEN_SCHEMA, OUTBOX_TABLE } from './data/schema.js';
import { kitchenMetrics } from './metrics.js';
import { recipesRoutes } from './routes/recipes.js';
import { CookLoop, deliverReadyDishes } from './use-cases/deliver-ready-dishes.js';
import type { Kitchen } from './use-cases/kitchen.js';

const SERVICE = 'kitchen-app';

/**
 * The kitchen: opens a ticket per placed order, asks the warehouse for the ingredients, cooks when
 * they arrive and delivers when the dish is ready. The one way to build it, for the server and tests.
 */
export async function buildApp(config: KitchenConfig): Promise<FastifyInstance> {
  const app = await createServiceApp(config, {
    service: SERVICE,
    description:
      'Free Lunch kitchen: turns placed orders into tickets with a random recipe, requests their ingredients ' +
      'from the warehouse, cooks them once dispatched and announces every status change.',
    schema: KITCHEN_SCHEMA,
    root: new URL('..', import.meta.url),
  });

  await app.register(recipesRoutes);

  const relay = new OutboxRelay({
    pool: app.pg,
    table: OUTBOX_TABLE,
    publisher: new StreamPublisher(app.redis, { prefix: config.KEY_PREFIX }),
    logger: app.log,
  });
  const cookLoop = new CookLoop({ deliver: () => deliverReadyDishes(kitchen), log: app.log });
  const kitchen: Kitchen = {
    pool: app.pg,
    log: app.log,
    metrics: kitchenMetrics(app.metrics, app.pg, app.log),
    cookTimeMs: config.COOK_TIME_MS,
    relay,
    cookLoop,
  };
  const consumers = kitchenConsumers({
    redis: app.redis,
    config,
    kitchen,
    logger: app.log,
    metrics: streamMetrics(app.metrics),
  });

  const consumed = [streamNames.orderPlaced, streamNames.ingredientsDispatched];
  streamBacklogMetrics(app.metrics, () =>
    streamBacklog(app.redis, config.KEY_PREFIX, consumed.map((stream) => ({ stream, group: KITCHEN_GROUP }))),
  );
  deadLetterMetrics(app.metrics, () => deadLetterCounts(app.redis, config.KEY_PREFIX, consumed));
  const janitor = new StreamJanitor({
    redis: app.redis,
    prefix: config.KEY_PREFIX,
    streams: consumed,
    retentionMs: config.STREAM_RETENTION_MS,
    logger: app.log,
  });

  app.addHook('onReady', async () => {
    relay.start();
    cookLoop.start();
    await Promise.all(consumers.map((consumer) => consumer.start()));
    janitor.start();
  });
  // Runs before the postgres and redis plugins close their connections (onClose hooks run in
  // reverse order of registration). Consumers stop first so no batch starts mid-shutdown; then
  // the cook loop finishes its round; the relay publishes what those committed last.
  app.addHook('onClose', async () => {
    await Promise.all(consumers.map((consumer) => consumer.stop()));
    await janitor.stop();
    await cookLoop.stop();
    await relay.stop();
    await relay
      .flush()
      .catch((error: unknown) => app.log.warn({ err: error }, 'outbox not flushed; the next relay to run publishes it'));
  });

  return app;
}
