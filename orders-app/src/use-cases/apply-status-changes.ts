import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { OrderStatusChangedV1 } from '@free-lunch/contracts';
import { inTransaction } from '@free-lunch/service-kit';
import { advanceOrders, loadOrderProgress, recordTimeline } from '../data/orders.js';
import { planStatusChanges, type StatusChangePlan } from '../domain/status-changes.js';

/**
 * The kitchen reports progress. A whole batch of reports is applied in one transaction: read where
 * the orders stand, decide (forward-only, idempotent by order id and status), record every step on
 * the timeline and move the orders on (the write re-checks forward-only, so no row is locked to
 * decide). Applying the same batch twice changes nothing the second time.
 */
export async function applyStatusChanges(
  deps: { pool: pg.Pool; log: FastifyBaseLogger },
  events: readonly OrderStatusChangedV1[],
): Promise<StatusChangePlan> {
  const plan = await inTransaction(deps.pool, async (tx) => {
    const orderIds = [...new Set(events.map((event) => event.orderId))];
    const current = await loadOrderProgress(tx, orderIds);
    const decided = planStatusChanges(current, events);
    // Written in order-id order: replicas applying overlapping batches take the row locks in the
    // same order, so they queue instead of deadlocking.
    await recordTimeline(tx, [...decided.timeline].sort((a, b) => byOrderId(a, b) || compare(a.status, b.status)));
    await advanceOrders(tx, [...decided.advances].sort(byOrderId));
    return decided;
  });

  // Retrying cannot make an unknown order appear (orders are committed before their event is
  // published), so these are acknowledged and reported rather than retried into the dead letter.
  if (plan.unknownOrderIds.length > 0) {
    deps.log.warn({ orderIds: plan.unknownOrderIds.slice(0, 20), count: plan.unknownOrderIds.length },
      'status changes for orders this service never placed; ignored');
  }
  return plan;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byOrderId(a: { orderId: string }, b: { orderId: string }): number {
  return compare(a.orderId, b.orderId);
}
