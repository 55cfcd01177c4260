import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { PublishCommitted } from '@free-lunch/streams';

/** What the kitchen reports to Prometheus; the prom-client side lives in `../metrics.ts`. */
export interface KitchenMetrics {
  ticketsOpened(count: number): void;
  /** Tickets announced again because their order was placed again (redelivery or nudge). */
  ticketsReDriven(count: number): void;
  dishesDelivered(count: number): void;
  dispatchesIgnored(reason: 'unknown_order' | 'wrong_recipe', count: number): void;
}

/** Everything the kitchen's use cases need, built once by `buildApp`. */
export interface Kitchen {
  pool: pg.Pool;
  log: FastifyBaseLogger;
  metrics: KitchenMetrics;
  /** How long a dish cooks once its ingredients are in. */
  cookTimeMs: number;
  /** Publishes outbox rows now (the relay): called after the commit that wrote them, so events leave at once. */
  publishNow: PublishCommitted;
  /** Wakes the cook loop: called after dishes went on the stove, so it plans for the soonest one. */
  cookNow: () => void;
}
