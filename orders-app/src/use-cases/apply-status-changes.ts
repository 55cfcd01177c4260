import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { OrderStatusChangedV1 } from '@free-lunch/contracts';
import { loadOrderProgress, recordProgress } from '../data/orders.js';
import { planStatusChanges, type StatusChangePlan } from '../domain/status-changes.js';

/**
 * The kitchen reports progress. A whole batch of reports costs two statements and no transaction
 * around them: read where the orders stand, decide (forward-only, idempotent by order id and
 * status), then record every step on the timeline and move the orders on in one statement (the
 * write re-checks forward-only, so no row is locked to decide). Applying the same batch twice
 * changes nothing the second time.
 */
export async function applyStatusChanges(
  deps: { pool: pg.Pool; log: FastifyBaseLogger },
  events: readonly OrderStatusChangedV1[],
): Promise<StatusChangePlan> {
  const orderIds = [...new Set(events.map((event) => event.orderId))];
  const plan = planStatusChanges(await loadOrderProgress(deps.pool, orderIds), events);
  // Written in order-id order: replicas applying overlapping batches take the row locks in the
  // same order, so they queue instead of deadlocking.
  await recordProgress(deps.pool, {
    timeline: [...plan.timeline].sort((a, b) => byOrderId(a, b) || compare(a.status, b.status)),
    advances: [...plan.advances].sort(byOrderId),
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
