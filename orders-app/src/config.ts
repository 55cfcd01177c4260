import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { BaseConfig, port } from '@free-lunch/service-kit';
import { MIN_MANAGER_TOKEN_LENGTH } from './domain/manager-token.js';

const milliseconds = (fallback: number) => z.coerce.number().int().min(1).default(fallback);

/** orders-app's environment, parsed once at start-up (see `parseConfig`). */
export const OrdersConfig = BaseConfig.extend({
  PORT: port(3000),
  /**
   * Bearer tokens for placing orders and opening the live view, comma-separated; any of them is
   * accepted, so a token is rotated by adding the new one, rolling, then removing the old one. Each
   * at least 32 characters. Required with NODE_ENV=production; elsewhere, without one the service
   * starts but refuses every manager request (`pnpm start` makes one up and prints it).
   */
  MANAGER_TOKENS: z
    .string()
    .transform((value) => value.split(',').map((token) => token.trim()).filter((token) => token !== ''))
    .optional(),
  /** One more accepted token, for deployments that set a single one. */
  MANAGER_TOKEN: z.string().trim().optional(),
  /** Wrong manager tokens one client address may present per minute before it gets 429 for a while. */
  RATE_LIMIT_AUTH_FAILURES_PER_MINUTE: z.coerce.number().int().min(1).default(10),
  /** POST /orders requests per token per minute (each may carry up to MAX_ORDER_QUANTITY orders). */
  RATE_LIMIT_ORDERS_PER_MINUTE: z.coerce.number().int().min(1).default(6_000),
  /** POST /ws-ticket requests per token per minute: a dashboard asks for one per connection. */
  RATE_LIMIT_WS_TICKETS_PER_MINUTE: z.coerce.number().int().min(1).default(120),
  /** WebSocket handshakes (/ws) per client address per minute. */
  RATE_LIMIT_WS_HANDSHAKES_PER_MINUTE: z.coerce.number().int().min(1).default(60),
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
}).superRefine((config, context) => {
  const tokens = managerTokensOf(config);
  const short = tokens.filter((token) => token.length < MIN_MANAGER_TOKEN_LENGTH).length;
  if (short > 0) {
    context.addIssue({
      code: 'custom',
      path: [config.MANAGER_TOKENS?.length ? 'MANAGER_TOKENS' : 'MANAGER_TOKEN'],
      message: `${short} of the manager tokens ${short === 1 ? 'is' : 'are'} shorter than ${MIN_MANAGER_TOKEN_LENGTH} characters; make one with \`openssl rand -base64 32\``,
    });
  }
  if (tokens.length === 0 && config.NODE_ENV === 'production') {
    context.addIssue({
      code: 'custom',
      path: ['MANAGER_TOKENS'],
      message: 'is required when NODE_ENV=production: without a manager token nobody could place an order',
    });
  }
});
export type OrdersConfig = z.infer<typeof OrdersConfig>;

/** Every manager token the configuration accepts, `MANAGER_TOKENS` first, without repeats. */
export function managerTokensOf(config: { MANAGER_TOKENS?: string[] | undefined; MANAGER_TOKEN?: string | undefined }): string[] {
  return [...new Set([...(config.MANAGER_TOKENS ?? []), ...(config.MANAGER_TOKEN ? [config.MANAGER_TOKEN] : [])])];
}
