import type pg from 'pg';
import { inTransaction } from '@free-lunch/service-kit';
import { enqueueOutbox } from '@free-lunch/streams';
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
 * Returns how many orders were nudged.
 */
export async function reconcileStuckOrders(
  deps: { pool: pg.Pool; publishNow: () => void },
  { stuckForMs }: { stuckForMs: number },
): Promise<number> {
  let nudged = 0;
  for (;;) {
    const batch = await inTransaction(deps.pool, async (tx) => {
      const stuck = await nudgeStuckOrders(tx, { stuckForMs, limit: NUDGE_BATCH });
      await enqueueOutbox(tx, OUTBOX_TABLE, stuck.map(orderPlacedEvent));
      return stuck.length;
    });
    nudged += batch;
    if (batch < NUDGE_BATCH) break;
  }
  if (nudged > 0) deps.publishNow();
  return nudged;
}
