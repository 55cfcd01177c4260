import type pg from 'pg';
import { inTransaction } from '@free-lunch/service-kit';
import { enqueueOutbox, type OutboxRows, type PublishCommitted } from '@free-lunch/streams';
import { nudgeStuckOrders } from '../data/orders.js';
import { OUTBOX_TABLE } from '../data/schema.js';
import { orderPlacedEvent } from '../domain/order-placed.js';

/** Most orders nudged per transaction, so a large backlog never holds one long lock. */
const NUDGE_BATCH = 1_000;

/**
 * Re-announces every unfinished order that has made no progress for `stuckForMs`. Redis may have
 * lost a message anywhere along the pipeline; the kitchen answers a repeated `order.placed` by
 * re-driving whatever step the order is stuck at, so this one nudge repairs all of them.
 * An order that stays stuck waits twice as long before each further nudge (see `nudgeStuckOrders`).
 * Each order is nudged at most once per call. Returns how many orders were nudged.
 */
export async function reconcileStuckOrders(
  deps: { pool: pg.Pool; publishNow: PublishCommitted },
  { stuckForMs }: { stuckForMs: number },
): Promise<number> {
  let nudged = 0;
  let notSince: Date | null = null;
  const outbox: OutboxRows[] = [];
  for (;;) {
    const round = await inTransaction(deps.pool, async (tx) => {
      const stuck = await nudgeStuckOrders(tx, { stuckForMs, limit: NUDGE_BATCH, notSince });
      outbox.push(await enqueueOutbox(tx, OUTBOX_TABLE, stuck.orders.map(orderPlacedEvent)));
      return stuck;
    });
    nudged += round.orders.length;
    notSince ??= round.at;
    if (round.orders.length < NUDGE_BATCH) break;
  }
  if (nudged > 0) deps.publishNow(outbox.flat());
  return nudged;
}

/**
 * Re-announces every unfinished order now, however recently it moved or was nudged: Redis lost its
 * data (a consumer found its group gone), so any message in flight may be gone, and waiting for
 * RECONCILE_AFTER_MS would leave those orders standing. The kitchen and the warehouse answer a
 * repeated `order.placed` from their own tables (same ticket and recipe, a dispatch sent again,
 * never a second one), so orders that were fine lose nothing but a few messages. Returns how many.
 */
export async function reDriveUnfinishedOrders(deps: { pool: pg.Pool; publishNow: PublishCommitted }): Promise<number> {
  return reconcileStuckOrders(deps, { stuckForMs: 0 });
}
