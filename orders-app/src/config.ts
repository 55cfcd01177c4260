import { fileURLToPath } from 'node:url';
import { BaseConfig, port } from '@free-lunch/service-kit';
import { z } from 'zod';

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** orders-app's environment, parsed once at start-up (see `parseConfig`). */
export const OrdersConfig = BaseConfig.extend({
  PORT: port(3000),
  /** Bearer token for placing orders and opening the live view; generated (and logged) when unset. */
  MANAGER_TOKEN: z.string().min(1).optional(),
  /** Most orders one POST /orders may place. */
  MAX_ORDER_QUANTITY: z.coerce.number().int().min(1).default(1_000),
  /**
   * Most orders that may wait undelivered at once; POST /orders answers 429 beyond it. High enough
   * for a 100,000-order backlog; what keeps a leaked token from filling the database.
   */
  MAX_OUTSTANDING_ORDERS: z.coerce.number().int().min(1).default(250_000),
  /** An unfinished order without progress for this long is re-announced to the kitchen. */
  RECONCILE_AFTER_MS: milliseconds(30_000),
  /** How often the reconciler looks for such orders. */
  RECONCILE_INTERVAL_MS: milliseconds(5_000),
  /** How long a retried request with the same Idempotency-Key gets its first answer back (default a day). */
  IDEMPOTENCY_KEY_TTL_MS: milliseconds(86_400_000),
  /** The dashboard's built files, served at `/` (`pnpm --filter @free-lunch/dashboard build` makes them). */
  DASHBOARD_DIR: z.string().min(1).default(fileURLToPath(new URL('../../packages/dashboard/dist', import.meta.url))),
  /** Where the manager's browser reaches kitchen-app and inventory-app (the dashboard reads recipes, stock, purchases). */
  KITCHEN_PUBLIC_URL: z.url().default('http://localhost:3001'),
  INVENTORY_PUBLIC_URL: z.url().default('http://localhost:3002'),
  // The live view's /ws, open to the internet: what one replica lets its sockets cost.
  /** Open live view sockets one replica holds; beyond it new ones are refused with 429. */
  WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1_000),
  /** Open live view sockets per client address (`request.ip`, so behind a proxy set TRUST_PROXY). */
  WS_MAX_CONNECTIONS_PER_ADDRESS: z.coerce.number().int().min(1).default(20),
  /** How far back `from`/`resumeFrom` may reach; an older position is told to reload instead (default 10 min). */
  WS_MAX_REPLAY_AGE_MS: milliseconds(600_000),
  /** Live view sockets are pinged this often; one that has not answered the previous ping is closed. */
  WS_PING_INTERVAL_MS: milliseconds(25_000),
});
export type OrdersConfig = z.infer<typeof OrdersConfig>;
