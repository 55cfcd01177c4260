import type pg from 'pg';
import type { Ingredient } from '@free-lunch/contracts';

/** Per ingredient, the sums the audit compares; every figure comes from one snapshot. */
export interface AuditTotals {
  ingredient: Ingredient;
  onHand: number;
  /** Σ purchases.quantity_sold. */
  bought: number;
  /** Σ purchase rows of the ledger: must equal `bought`. */
  boughtInLedger: number;
  /** Σ dispatch rows of the ledger (as a positive number). */
  dispatched: number;
  /** Σ needs of requests marked dispatched: must equal `dispatched`. */
  dispatchedToOrders: number;
}

/**
 * Reads every total the audit needs in ONE statement, so a purchase or dispatch committing
 * meanwhile cannot make a consistent warehouse look inconsistent.
 */
export async function loadAuditTotals(db: pg.Pool | pg.ClientBase): Promise<AuditTotals[]> {
  const { rows } = await db.query<{
    ingredient: Ingredient;
    on_hand: number;
    bought: string;
    bought_in_ledger: string;
    dispatched: string;
    dispatched_to_orders: string;
  }>(
    `WITH ledger AS (
       SELECT ingredient,
              coalesce(sum(delta) FILTER (WHERE reason = 'purchase'), 0) AS bought_in_ledger,
              coalesce(-sum(delta) FILTER (WHERE reason = 'dispatch'), 0) AS dispatched
         FROM stock_ledger GROUP BY ingredient
     ), bought AS (
       SELECT ingredient, sum(quantity_sold) AS bought FROM purchases GROUP BY ingredient
     ), handed_over AS (
       SELECT need.ingredient, sum(need.quantity) AS dispatched_to_orders
         FROM requests AS r
        CROSS JOIN LATERAL jsonb_to_recordset(r.ingredients) AS need (ingredient text, quantity int)
        WHERE r.status = 'dispatched'
        GROUP BY need.ingredient
     )
     SELECT s.ingredient, s.on_hand,
            coalesce(b.bought, 0)::int8 AS bought,
            coalesce(l.bought_in_ledger, 0)::int8 AS bought_in_ledger,
            coalesce(l.dispatched, 0)::int8 AS dispatched,
            coalesce(h.dispatched_to_orders, 0)::int8 AS dispatched_to_orders
       FROM stock AS s
       LEFT JOIN ledger AS l USING (ingredient)
       LEFT JOIN bought AS b USING (ingredient)
       LEFT JOIN handed_over AS h USING (ingredient)`,
  );
  return rows.map((row) => ({
    ingredient: row.ingredient,
    onHand: row.on_hand,
    bought: Number(row.bought),
    boughtInLedger: Number(row.bought_in_ledger),
    dispatched: Number(row.dispatched),
    dispatchedToOrders: Number(row.dispatched_to_orders),
  }));
}
