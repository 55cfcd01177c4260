import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';

/** What the kitchen reports to Prometheus; the prom-client side lives in `../metrics.ts`. */
export interface KitchenMetrics {
  ticketsOpened(count: number): void;
  /** Tickets announced again because their order was placed again (redelivery or nudge). */
  ticketsReDriven(count: number): void;
  dishesDelivered(count: number): void;
  dispatchesIgnored(reason: 'unknown_order' | 'wrong_recipe', count: number): void;
}

/** Something that does its work now instead of at its next scheduled round. */
export interface Wakeable {
  wake(): void;
}

/** Everything the kitchen's use cases need, built once by `buildApp`. */
export interface Kitchen {
  pool: pg.Pool;
  log: FastifyBaseLogger;
  metrics: KitchenMetrics;
  /** How long a dish cooks once its ingredients are in. */
  cookTimeMs: number;
  /** The outbox relay: woken after a commit that wrote to the outbox, so events leave at once. */
  relay: Wakeable;
  /** The cook loop: woken after dishes went on the stove, so it plans for the soonest one. */
  cookLoop: Wakeable;
}
