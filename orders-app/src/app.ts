import { randomBytes } from 'node:crypto';
import websocket from '@fastify/websocket';
import { clientAddress, createServiceApp, manualLimit } from '@free-lunch/service-kit';
import { streamNames } from '@free-lunch/contracts';
import { OutboxRelay, StreamJanitor, StreamPublisher } from '@free-lunch/streams';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import { PeriodicTask } from './background/periodic-task.js';
import { statusChangesConsumer } from './background/status-changes-consumer.js';
import { managerTokensOf, type OrdersConfig } from './config.js';
import { ORDERS_SCHEMA, OUTBOX_TABLE } from './data/schema.js';
import { ManagerTokens } from './domain/manager-token.js';
import { LiveFeed } from './live/live-feed.js';
import { WsTickets } from './live/ws-tickets.js';
import { dashboardConfigRoutes } from './routes/dashboard-config.js';
import { homeRoutes } from './routes/home.js';
import { liveRoutes } from './routes/live.js';
import { managerOnly, tokenKey, type ManagerAccess } from './routes/manager-auth.js';
import { ordersRoutes } from './routes/orders.js';
import { forgetExpiredIdempotencyKeys } from './use-cases/forget-idempotency-keys.js';
import { reconcileStuckOrders } from './use-cases/reconcile-stuck-orders.js';

const SERVICE = 'orders-app';

/**
 * The orders service: takes the manager's orders, follows them through the kitchen, re-announces
 * the ones that got stuck, and streams the restaurant live to the dashboard. The one way to build
 * it, for the server and for tests.
 */
export async function buildApp(config: OrdersConfig): Promise<FastifyInstance> {
  const app = await createServiceApp(config, {
    service: SERVICE,
    description:
      'Free Lunch orders: the manager places free-lunch orders here and follows them from queued to ' +
      'delivered; the live view WebSocket streams order status, stock and market purchases.',
    schema: ORDERS_SCHEMA,
    root: new URL('..', import.meta.url),
    // The dashboard reads recipes, stock and purchases straight from kitchen-app and inventory-app.
    csp: { 'connect-src': [new URL(config.KITCHEN_PUBLIC_URL).origin, new URL(config.INVENTORY_PUBLIC_URL).origin] },
  });
  const managerToken = managerTokens(config, app.log);

  // Before the routes: it must see them to upgrade /ws and refuse upgrades elsewhere. Clients only
  // ever send one small auth message.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });

  const relay = new OutboxRelay({
    pool: app.pg,
    table: OUTBOX_TABLE,
    publisher: new StreamPublisher(app.redis, { prefix: config.KEY_PREFIX }),
    logger: app.log,
  });
  const statusChanges = statusChangesConsumer(app, config, app.log);
  // The status stream is also the live view's: a STREAM_RETENTION_MS under WS_MAX_REPLAY_AGE_MS
  // makes dashboards away for longer than it start over instead of resuming.
  const streamJanitor = new StreamJanitor({
    redis: app.redis,
    prefix: config.KEY_PREFIX,
    streams: [streamNames.orderStatusChanged],
    retentionMs: config.STREAM_RETENTION_MS,
    logger: app.log,
  });
  const reconciler = new PeriodicTask({
    name: 'reconcile stuck orders',
    intervalMs: config.RECONCILE_INTERVAL_MS,
    run: () => reconcileStuckOrders({ pool: app.pg, relay }, { stuckForMs: config.RECONCILE_AFTER_MS }),
    log: app.log,
  });
  const keyJanitor = new PeriodicTask({
    name: 'forget expired idempotency keys',
    // Often enough that the table holds little more than a day of keys; rare enough to cost nothing.
    intervalMs: Math.min(config.IDEMPOTENCY_KEY_TTL_MS, 10 * 60_000),
    run: () => forgetExpiredIdempotencyKeys(app.pg, { keepForMs: config.IDEMPOTENCY_KEY_TTL_MS }),
    log: app.log,
  });
  const feed = new LiveFeed({ redis: app.redis, prefix: config.KEY_PREFIX, logger: app.log });

  await app.register(homeRoutes, { dashboardDir: config.DASHBOARD_DIR });
  await app.register(dashboardConfigRoutes, {
    maxOrderQuantity: config.MAX_ORDER_QUANTITY,
    // Without the trailing slash a URL may have been given with, so the page can append paths.
    kitchenUrl: config.KITCHEN_PUBLIC_URL.replace(/\/+$/, ''),
    inventoryUrl: config.INVENTORY_PUBLIC_URL.replace(/\/+$/, ''),
  });
  const manager: ManagerAccess = {
    tokens: managerToken,
    authFailures: manualLimit(app, 'auth-failures', config.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE, clientAddress),
  };
  const perToken = (name: string, max: number) => managerOnly(manager, manualLimit(app, name, max, tokenKey));
  await app.register(ordersRoutes, {
    managerOnly: perToken('place-orders', config.RATE_LIMIT_ORDERS_PER_MINUTE),
    maxOrderQuantity: config.MAX_ORDER_QUANTITY,
    maxOutstandingOrders: config.MAX_OUTSTANDING_ORDERS,
    relay,
  });
  await app.register(liveRoutes, {
    manager,
    handshakesPerMinute: config.RATE_LIMIT_WS_HANDSHAKES_PER_MINUTE,
    managerOnly: perToken('ws-tickets', config.RATE_LIMIT_WS_TICKETS_PER_MINUTE),
    feed,
    tickets: new WsTickets(app.redis, config.KEY_PREFIX),
    guard: {
      allowedOrigins: config.CORS_ORIGINS,
      maxConnections: config.WS_MAX_CONNECTIONS,
      maxConnectionsPerAddress: config.WS_MAX_CONNECTIONS_PER_ADDRESS,
      maxReplayAgeMs: config.WS_MAX_REPLAY_AGE_MS,
      pingIntervalMs: config.WS_PING_INTERVAL_MS,
    },
  });

  app.addHook('onReady', async () => {
    relay.start();
    await statusChanges.start();
    await feed.start();
    reconciler.start();
    keyJanitor.start();
    streamJanitor.start();
  });
  // onClose hooks run in reverse order of registration, so this runs while PostgreSQL and Redis
  // are still open. The consumer and reconciler stop first so nothing new is enqueued; the relay
  // then publishes what they committed last.
  app.addHook('onClose', async () => {
    await statusChanges.stop();
    await reconciler.stop();
    await keyJanitor.stop();
    await streamJanitor.stop();
    await feed.stop();
    await relay
      .flush()
      .catch((error: unknown) => app.log.warn({ err: error }, 'outbox not flushed; the next relay publishes it'));
    await relay.stop();
  });

  return app;
}

/**
 * The configured manager tokens. Without any (allowed outside production only) the service starts
 * so its reads and docs can be looked at, but accepts no manager request: it holds a random token
 * that is never shown, rather than one each replica would make up and write to its logs.
 */
function managerTokens(config: OrdersConfig, log: FastifyBaseLogger): ManagerTokens {
  const tokens = managerTokensOf(config);
  if (tokens.length > 0) return new ManagerTokens(tokens);
  log.warn('MANAGER_TOKENS is not set: placing orders and the live view answer 401 until it is (pnpm start sets one)');
  return new ManagerTokens([randomBytes(32).toString('base64url')]);
}
