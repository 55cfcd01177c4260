import type { FastifyInstance } from 'fastify';
import { createServiceApp, registerBackground } from '@free-lunch/service-kit';
import { OutboxRelay, StreamJanitor, StreamPublisher } from '@free-lunch/streams';
import type { KitchenConfig } from './config.js';
import { ingredientsDispatchedConsumer } from './consumers/ingredients-dispatched.js';
import { KITCHEN_STREAMS, kitchenMember } from './consumers/kitchen-group.js';
import { ordersPlacedConsumer } from './consumers/orders-placed.js';
import { KITCHEN_SCHEMA, OUTBOX_TABLE } from './data/schema.js';
import { kitchenMetrics } from './metrics.js';
import { recipesRoutes } from './routes/recipes.js';
import { deliverReadyDishes } from './use-cases/deliver-ready-dishes.js';
import type { Kitchen } from './use-cases/kitchen-ports.js';
import { cookLoop } from './workers/cook-loop.js';

/**
 * The kitchen: opens a ticket per placed order, asks the warehouse for the ingredients, cooks when
 * they arrive and delivers when the dish is ready. The one way to build it, for the server and tests.
 */
export async function buildApp(config: KitchenConfig): Promise<FastifyInstance> {
  const app = await createServiceApp(config, {
    service: 'kitchen-app',
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
  const kitchen: Kitchen = {
    pool: app.pg,
    log: app.log,
    metrics: kitchenMetrics(app.metrics, app.pg, app.log),
    cookTimeMs: config.COOK_TIME_MS,
    publishNow: (rows) => relay.publishCommitted(rows),
    cookNow: () => cooking.wake(),
  };
  const cooking = cookLoop({ deliver: () => deliverReadyDishes(kitchen), log: app.log });
  const member = kitchenMember(app, config);

  registerBackground(app, {
    consumers: [ordersPlacedConsumer(member, kitchen), ingredientsDispatchedConsumer(member, kitchen)],
    workers: [
      cooking,
      new StreamJanitor({
        redis: app.redis,
        prefix: config.KEY_PREFIX,
        streams: KITCHEN_STREAMS,
        retentionMs: config.STREAM_RETENTION_MS,
        logger: app.log,
      }),
    ],
    relay,
  });
  return app;
}
