import websocket from '@fastify/websocket';
import type { FastifyInstance } from 'fastify';
import { streamNames } from '@free-lunch/contracts';
import { clientAddress, createServiceApp, manualLimit, registerBackground } from '@free-lunch/service-kit';
import { OutboxRelay, StreamJanitor, StreamPublisher, type PublishCommitted } from '@free-lunch/streams';
import type { OrdersConfig } from './config.js';
import { statusChangesConsumer } from './consumers/status-changes.js';
import { ORDERS_SCHEMA, OUTBOX_TABLE } from './data/schema.js';
import { LiveFeed } from './live/live-feed.js';
import { WsTickets } from './live/ws-tickets.js';
import { dashboardConfigRoutes } from './routes/dashboard-config.js';
import { homeRoutes } from './routes/home.js';
import { liveRoutes } from './routes/live.js';
import { configuredManagerTokens, managerOnly, tokenKey, type ManagerAccess } from './routes/manager-auth.js';
import { ordersRoutes } from './routes/orders.js';
import { idempotencyKeyJanitor } from './workers/idempotency-key-janitor.js';
import { reconciler, reDriveOnRedisLoss } from './workers/reconciler.js';

/**
 * The orders service: takes the manager's orders, follows them through the kitchen, re-announces
 * the ones that got stuck, and streams the restaurant live to the dashboard. The one way to build
 * it, for the server and for tests.
 */
export async function buildApp(config: OrdersConfig): Promise<FastifyInstance> {
  const app = await createServiceApp(config, {
    service: 'orders-app',
    description:
      'Free Lunch orders: the manager places free-lunch orders here and follows them from queued to ' +
      'delivered; the live view WebSocket streams order status, stock and market purchases.',
    schema: ORDERS_SCHEMA,
    root: new URL('..', import.meta.url),
    // The dashboard reads recipes, stock and purchases straight from kitchen-app and inventory-app.
    csp: { 'connect-src': [new URL(config.KITCHEN_PUBLIC_URL).origin, new URL(config.INVENTORY_PUBLIC_URL).origin] },
  });
  const relay = new OutboxRelay({
    pool: app.pg,
    table: OUTBOX_TABLE,
    publisher: new StreamPublisher(app.redis, { prefix: config.KEY_PREFIX }),
    logger: app.log,
  });
  const publishNow: PublishCommitted = (rows) => relay.publishCommitted(rows);
  const feed = new LiveFeed({ redis: app.redis, prefix: config.KEY_PREFIX, logger: app.log });

  // Before the routes: it must see them to upgrade /ws and refuse upgrades elsewhere. Clients only
  // ever send one small auth message.
  await app.register(websocket, { options: { maxPayload: 64 * 1024 } });
  await app.register(homeRoutes, { dashboardDir: config.DASHBOARD_DIR });
  await app.register(dashboardConfigRoutes, {
    maxOrderQuantity: config.MAX_ORDER_QUANTITY,
    // Without the trailing slash a URL may have been given with, so the page can append paths.
    kitchenUrl: config.KITCHEN_PUBLIC_URL.replace(/\/+$/, ''),
    inventoryUrl: config.INVENTORY_PUBLIC_URL.replace(/\/+$/, ''),
  });
  const manager: ManagerAccess = {
    tokens: configuredManagerTokens(config, app.log),
    authFailures: manualLimit(app, 'auth-failures', config.RATE_LIMIT_AUTH_FAILURES_PER_MINUTE, clientAddress),
  };
  const perToken = (name: string, max: number) => managerOnly(manager, manualLimit(app, name, max, tokenKey));
  await app.register(ordersRoutes, {
    managerOnly: perToken('place-orders', config.RATE_LIMIT_ORDERS_PER_MINUTE),
    maxOrderQuantity: config.MAX_ORDER_QUANTITY,
    maxOutstandingOrders: config.MAX_OUTSTANDING_ORDERS,
    publishNow,
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

  registerBackground(app, {
    consumers: [statusChangesConsumer(app, config, reDriveOnRedisLoss({ pool: app.pg, publishNow, log: app.log }))],
    workers: [
      reconciler({ pool: app.pg, publishNow, log: app.log }, config),
      idempotencyKeyJanitor({ pool: app.pg, log: app.log }, config),
      // The status stream is also the live view's: a STREAM_RETENTION_MS under WS_MAX_REPLAY_AGE_MS
      // makes dashboards away for longer than it start over instead of resuming.
      new StreamJanitor({
        redis: app.redis,
        prefix: config.KEY_PREFIX,
        streams: [streamNames.orderStatusChanged],
        retentionMs: config.STREAM_RETENTION_MS,
        logger: app.log,
      }),
      // The dashboards' reader of the live streams; it may stop before the relay's last flush.
      feed,
    ],
    relay,
  });
  return app;
}
