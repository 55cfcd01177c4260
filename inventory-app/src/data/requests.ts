import type { Ingredient, IngredientQuantity, RecipeName } from '@free-lunch/contracts';
import type pg from 'pg';

/** A ticket's request for ingredients as the warehouse keeps it. */
export interface IngredientRequest {
  orderId: string;
  recipe: RecipeName;
  /** One entry per ingredient. */
  needs: IngredientQuantity[];
  requestedAt: Date;
}

export interface DispatchedRequest {
  orderId: string;
  recipe: RecipeName;
  needs: IngredientQuantity[];
  dispatchedAt: Date;
}

/** Stores requests not seen before; returns the order ids that were new. Duplicates are ignored. */
export async function insertRequests(client: pg.ClientBase, requests: readonly IngredientRequest[]): Promise<string[]> {
  if (requests.length === 0) return [];
  const { rows } = await client.query<{ order_id: string }>(
    `INSERT INTO requests (order_id, recipe, ingredients, requested_at)
     SELECT * FROM unnest($1::uuid[], $2::text[], $3::jsonb[], $4::timestamptz[])
     ON CONFLICT (order_id) DO NOTHING
     RETURNING order_id`,
    [
      requests.map((r) => r.orderId),
      requests.map((r) => r.recipe),
      requests.map((r) => JSON.stringify(r.needs)),
      requests.map((r) => r.requestedAt),
    ],
  );
  return rows.map((row) => row.order_id);
}

/** Of the given orders, those whose ingredients have already left the warehouse. */
export async function findDispatchedRequests(
  client: pg.ClientBase,
  orderIds: readonly string[],
): Promise<DispatchedRequest[]> {
  if (orderIds.length === 0) return [];
  const { rows } = await client.query<{
    order_id: string;
    recipe: RecipeName;
    ingredients: IngredientQuantity[];
    dispatched_at: Date;
  }>(
    `SELECT order_id, recipe, ingredients, dispatched_at FROM requests
      WHERE order_id = ANY($1::uuid[]) AND status = 'dispatched'`,
    [orderIds],
  );
  return rows.map((row) => ({
    orderId: row.order_id,
    recipe: row.recipe,
    needs: row.ingredients,
    dispatchedAt: row.dispatched_at,
  }));
}

/** A waiting request with its place in the queue. */
export interface QueuedRequest {
  orderId: string;
  recipe: RecipeName;
  needs: IngredientQuantity[];
  /** Queue position: lower arrived earlier. */
  arrival: string;
}

/** Up to `limit` waiting requests in the order they arrived, after queue position `after` if given. */
export async function loadPendingRequests(
  client: pg.ClientBase,
  { after, limit }: { after: string | null; limit: number },
): Promise<QueuedRequest[]> {
  const { rows } = await client.query<{
    order_id: string;
    recipe: RecipeName;
    ingredients: IngredientQuantity[];
    arrival: string;
  }>(
    `SELECT order_id, recipe, ingredients, arrival FROM requests
      WHERE status = 'pending' AND ($1::int8 IS NULL OR arrival > $1::int8)
      ORDER BY arrival
      LIMIT $2`,
    [after, limit],
  );
  return rows.map((row) => ({ orderId: row.order_id, recipe: row.recipe, needs: row.ingredients, arrival: row.arrival }));
}

/** Marks requests as served at `at`; only pending ones, so a request is never dispatched twice. */
export async function markDispatched(client: pg.ClientBase, orderIds: readonly string[], at: Date): Promise<number> {
  if (orderIds.length === 0) return 0;
  const { rowCount } = await client.query(
    `UPDATE requests SET status = 'dispatched', dispatched_at = $2
      WHERE order_id = ANY($1::uuid[]) AND status = 'pending'`,
    [orderIds, at],
  );
  return rowCount ?? 0;
}

/**
 * Units the warehouse lacks per ingredient to serve every waiting request at once: what they need
 * in total minus what is on hand. Only ingredients actually short are listed.
 */
export async function loadShortfall(db: pg.Pool | pg.ClientBase): Promise<Map<Ingredient, number>> {
  const { rows } = await db.query<{ ingredient: Ingredient; short: number }>(
    `SELECT s.ingredient, (n.needed - s.on_hand)::int AS short
       FROM stock AS s
       JOIN (SELECT need.ingredient, sum(need.quantity) AS needed
               FROM requests AS r
              CROSS JOIN LATERAL jsonb_to_recordset(r.ingredients) AS need (ingredient text, quantity int)
              WHERE r.status = 'pending'
              GROUP BY need.ingredient) AS n USING (ingredient)
      WHERE n.needed > s.on_hand`,
  );
  return new Map(rows.map((row) => [row.ingredient, row.short]));
}

/** How many requests are waiting, for the metrics gauge. */
export async function countPendingRequests(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ count: string }>(`SELECT count(*) FROM requests WHERE status = 'pending'`);
  return Number(rows[0]?.count ?? 0);
}

/**
 * PostgreSQL channel on which new requests are announced at commit. The active purchaser listens
 * on it, whichever replica it runs in, so new shortfalls are bought without polling.
 */
export const NEW_REQUESTS_CHANNEL = 'inventory_new_requests';

/** Announces new requests when the surrounding transaction commits (never if it rolls back). */
export async function announceNewRequests(client: pg.ClientBase): Promise<void> {
  await client.query(`NOTIFY ${NEW_REQUESTS_CHANNEL}`);
}
