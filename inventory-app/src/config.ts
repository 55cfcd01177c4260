import { z } from 'zod';
import { BaseConfig, port } from '@free-lunch/service-kit';

const milliseconds = () => z.coerce.number().int().min(1);

/** The warehouse's settings: the shared ones plus how it deals with the farmers' market. */
export const InventoryConfig = BaseConfig.extend({
  PORT: port(3002),
  /** The market's buy endpoint (the simulator's by default; the real market in production). */
  MARKET_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:3100/api/farmers-market/buy'),
  /**
   * Most market calls in flight at once, across all ingredients, a call whose sale is being journaled
   * included. With an instant market a slot spends most of its time waiting for that journal write
   * (about 7 ms against 1 ms for the call), so the slots pace a burst: 64 delivered a burst about 10 %
   * faster than 32, and 32 bought the backlog of a two-minute PostgreSQL outage in half the time of 16.
   * A killed warehouse can leave at most this many calls out of the books.
   */
  MARKET_CONCURRENCY: z.coerce.number().int().min(1).max(1024).default(64),
  /** A market call not answered within this is a fault. */
  MARKET_TIMEOUT_MS: milliseconds().default(2000),
  /**
   * First wait after an ingredient's round brought nothing; doubles per empty round… A "none today"
   * is common (40 % of answers at the simulator's default) and usually gone by the next call, so
   * the first waits are short: dishes needing that ingredient should not stall for long; a market
   * that stays empty still reaches the ceiling within a few rounds.
   */
  MARKET_RETRY_BASE_MS: milliseconds().default(10),
  /** …up to this. */
  MARKET_RETRY_MAX_MS: milliseconds().default(2000),
  /** A sale above this is absurd, hence a fault, never stock. */
  MARKET_MAX_QUANTITY: z.coerce.number().int().min(1).default(1000),
}).refine((config) => config.MARKET_RETRY_BASE_MS <= config.MARKET_RETRY_MAX_MS, {
  path: ['MARKET_RETRY_MAX_MS'],
  message: 'must be at least MARKET_RETRY_BASE_MS',
});
export type InventoryConfig = z.infer<typeof InventoryConfig>;
