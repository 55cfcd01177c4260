import type { FastifyInstance } from 'fastify';
import type { PublishCommitted } from '@free-lunch/streams';
import type { InventoryMetrics } from '../metrics.js';
import { Allocator } from '../use-cases/allocate.js';

/**
 * Hands whole recipes out of stock to the waiting requests: at start, on every sweep, and when woken
 * (new requests announced, stock bought). Publishes what it dispatched at once.
 */
export function allocator(app: FastifyInstance, { metrics, publishNow }: { metrics: InventoryMetrics; publishNow: PublishCommitted }): Allocator {
  return new Allocator({
    pool: app.pg,
    metrics,
    logger: app.log.child({ component: 'allocator' }),
    publishNow,
  });
}
