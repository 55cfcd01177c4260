import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { Loop } from '@free-lunch/service-kit';
import type { PublishCommitted } from '@free-lunch/streams';
import type { OrdersConfig } from '../config.js';
import { reconcileStuckOrders, reDriveUnfinishedOrders } from '../use-cases/reconcile-stuck-orders.js';

/**
 * Every RECONCILE_INTERVAL_MS (the first time one interval after start), re-announces the orders
 * stuck for RECONCILE_AFTER_MS: Redis may have lost their messages anywhere along the pipeline.
 */
export function reconciler(
  deps: { pool: pg.Pool; publishNow: PublishCommitted; log: FastifyBaseLogger },
  config: Pick<OrdersConfig, 'RECONCILE_INTERVAL_MS' | 'RECONCILE_AFTER_MS'>,
): Loop {
  return new Loop({
    name: 'reconcile stuck orders',
    everyMs: config.RECONCILE_INTERVAL_MS,
    runAtStart: false,
    run: async () => void (await reconcileStuckOrders(deps, { stuckForMs: config.RECONCILE_AFTER_MS })),
    log: deps.log,
  });
}

/**
 * What the status consumer runs when it finds its group missing (Redis lost its data, or the first
 * start): every unfinished order re-announced at once, not after RECONCILE_AFTER_MS. Throws if
 * PostgreSQL cannot take it; the consumer then tries again before it makes the group anew.
 */
export function reDriveOnRedisLoss(deps: { pool: pg.Pool; publishNow: PublishCommitted; log: FastifyBaseLogger }): () => Promise<void> {
  return async () => {
    const orders = await reDriveUnfinishedOrders(deps);
    if (orders > 0) {
      deps.log.warn({ orders }, 'the orders consumer group was missing (Redis lost its data?): re-announced every unfinished order');
    }
  };
}
