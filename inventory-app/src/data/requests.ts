import type pg from 'pg';
import type { Ingredient, IngredientQuantity, RecipeName } from '@free-lunch/contracts';

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

// The statements the queue runs for every batch are named: each connection has PostgreSQL parse and
// plan them once, not on every call. Not those that take a batch of order ids, which must find it by
// primary key (see batch-lookups.test.ts): they are planned on every call, since a plan cached on
// the first calls of a new database, while the table is small, scans it, and goes on scanning it as
// the queue grows. Marking a batch dispatched says "still pending" as `dispatched_at IS NULL`, which
// the CHECK constraint makes the same as `status = 'pending'` (keep the two in step if a status is
// ever added): with the status, the planner reads the partial index of the whole queue, which before
// statistics are gathered (autovacuum's next ANALYZE) it guesses is tiny, for each batch of a burst.

/**
 * Stores requests not seen before and adds what they need to the pending totals; returns the order
 * ids that were new. Duplicates are ignored (and add nothing).
 */
export async function insertRequests(client: pg.ClientBase, requests: readonly IngredientRequest[]): Promise<string[]> {
  if (requests.length === 0) return [];
  const { rows } = await client.query<{ order_id: string }>({
    name: 'inventory.insert-requests',
    // One JSON document for the batch: a jsonb[] parameter has the driver escape every element.
    // Inserted in the order given, which is the order they join the queue in.
    text: `INSERT INTO requests (order_id, recipe, ingredients, requested_at)
     SELECT r.order_id, r.recipe, r.ingredients, r.requested_at
       FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e (request, position),
            jsonb_to_record(e.request) AS r (order_id uuid, recipe text, ingredients jsonb, requested_at timestamptz)
      ORDER BY e.position
     ON CONFLICT (order_id) DO NOTHING
     RETURNING order_id`,
    values: [
      JSON.stringify(
        requests.map((r) => ({ order_id: r.orderId, recipe: r.recipe, ingredients: r.needs, requested_at: r.requestedAt })),
      ),
    ],
  });
  const added = new Set(rows.map((row) => row.order_id));
  await adjustPendingNeeds(client, totalNeeds(requests.filter((request) => added.has(request.orderId))), +1);
  return [...added];
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
  db: pg.Pool | pg.ClientBase,
  { after, limit }: { after: string | null; limit: number },
): Promise<QueuedRequest[]> {
  const { rows } = await db.query<{
    order_id: string;
    recipe: RecipeName;
    ingredients: IngredientQuantity[];
    arrival: string;
  }>({
    name: 'inventory.queue-page',
    text: `SELECT order_id, recipe, ingredients, arrival FROM requests
      WHERE status = 'pending' AND arrival > coalesce($1::int8, 0)
      ORDER BY arrival
      LIMIT $2`,
    values: [after, limit],
  });
  return rows.map((row) => ({ orderId: row.order_id, recipe: row.recipe, needs: row.ingredients, arrival: row.arrival }));
}

/**
 * Marks requests as served at `at` and takes what they needed off the pending totals. Only pending
 * ones are marked, so a request is never dispatched twice; returns how many were marked, and the
 * caller must roll back unless that is all of them (the totals assume every one was).
 */
export async function markDispatched(
  client: pg.ClientBase,
  requests: ReadonlyArray<{ orderId: string; needs: readonly IngredientQuantity[] }>,
  at: Date,
): Promise<number> {
  if (requests.length === 0) return 0;
  const { rowCount } = await client.query(
    `UPDATE requests SET status = 'dispatched', dispatched_at = $2
      WHERE order_id = ANY($1::uuid[]) AND dispatched_at IS NULL`,
    [requests.map((request) => request.orderId), at],
  );
  await adjustPendingNeeds(client, totalNeeds(requests), -1);
  return rowCount ?? 0;
}

/**
 * Units the warehouse lacks per ingredient to serve every waiting request at once: what they need
 * in total minus what is on hand. Only ingredients actually short are listed.
 */
export async function loadShortfall(db: pg.Pool | pg.ClientBase): Promise<Map<Ingredient, number>> {
  const { rows } = await db.query<{ ingredient: Ingredient; short: number }>({
    name: 'inventory.shortfall',
    text: `SELECT s.ingredient, n.units - s.on_hand AS short
       FROM stock AS s JOIN pending_needs AS n USING (ingredient)
      WHERE n.units > s.on_hand`,
  });
  return new Map(rows.map((row) => [row.ingredient, row.short]));
}

function totalNeeds(requests: ReadonlyArray<{ needs: readonly IngredientQuantity[] }>): Map<Ingredient, number> {
  const total = new Map<Ingredient, number>();
  for (const { needs } of requests) {
    for (const { ingredient, quantity } of needs) total.set(ingredient, (total.get(ingredient) ?? 0) + quantity);
  }
  return total;
}

/**
 * Adds (`sign` +1) or removes (−1) units from the pending totals. The rows are locked first, in
 * ingredient order, so consumers and allocators of every replica updating them at once queue up
 * instead of deadlocking; an allocator holds the stock lock before this one, and nobody takes them
 * the other way round.
 */
async function adjustPendingNeeds(client: pg.ClientBase, units: ReadonlyMap<Ingredient, number>, sign: 1 | -1): Promise<void> {
  const changes = [...units].filter(([, n]) => n !== 0).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  if (changes.length === 0) return;
  const ingredients = changes.map(([ingredient]) => ingredient);
  await client.query({
    name: 'inventory.lock-pending-needs',
    text: 'SELECT 1 FROM pending_needs WHERE ingredient = ANY($1::text[]) ORDER BY ingredient FOR UPDATE',
    values: [ingredients],
  });
  await client.query({
    name: 'inventory.adjust-pending-needs',
    text: `UPDATE pending_needs AS p SET units = p.units + d.delta
       FROM unnest($1::text[], $2::int[]) AS d (ingredient, delta)
      WHERE p.ingredient = d.ingredient`,
    values: [ingredients, changes.map(([, n]) => sign * n)],
  });
}

/** How many requests are waiting, for the metrics gauge. */
export async function countPendingRequests(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ count: string }>(`SELECT count(*) FROM requests WHERE status = 'pending'`);
  return Number(rows[0]?.count ?? 0);
}

/**
 * PostgreSQL channel on which new requests are announced at commit. The active purchaser listens
 * on it, whichever replica it runs in: its replica allocates for them, and buys what they make
 * short, without polling.
 */
export const NEW_REQUESTS_CHANNEL = 'inventory_new_requests';

/** Announces new requests when the surrounding transaction commits (never if it rolls back). */
export async function announceNewRequests(client: pg.ClientBase): Promise<void> {
  await client.query(`NOTIFY ${NEW_REQUESTS_CHANNEL}`);
}
