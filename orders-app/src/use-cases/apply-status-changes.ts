import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { OrderStatusChangedV1 } from '@free-lunch/contracts';
import { recordProgress } from '../data/orders.js';
import { planStatusChanges, type StatusChangePlan } from '../domain/status-changes.js';

/**
 * The kitchen reports progress. A whole batch of reports is one statement: every step goes on the
 * timeline of an order this service placed, and each order moves to the furthest status of the
 * batch where that is forward (idempotent by order id and status, and no row locked to decide).
 * Applying the same batch twice changes nothing the second time.
 */
export async function applyStatusChanges(
  deps: { pool: pg.Pool; log: FastifyBaseLogger },
  events: readonly OrderStatusChangedV1[],
): Promise<StatusChangePlan & { unknownOrderIds: string[] }> {
  const plan = planStatusChanges(events);
  // Written in order-id order: replicas applying overlapping batches take the row locks in the
  // same order, so they queue instead of deadlocking.
  const { unknownOrderIds } = await recordProgress(deps.pool, {
    timeline: [...plan.timeline].sort((a, b) => byOrderId(a, b) || compare(a.status, b.status)),
    advances: [...plan.advances].sort(byOrderId),
  });

  // Retrying cannot make an unknown order appear (orders are committed before their event is
  // published), so these are acknowledged and reported rather than retried into the dead letter.
  if (unknownOrderIds.length > 0) {
    deps.log.warn({ orderIds: unknownOrderIds.slice(0, 20), count: unknownOrderIds.length },
      'status changes for orders this service never placed; ignored');
  }
  return { ...plan, unknownOrderIds };
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

function byOrderId(a: { orderId: string }, b: { orderId: string }): number {
  return compare(a.orderId, b.orderId);
}
