import type pg from 'pg';
import type { Ingredient, IngredientQuantity, RecipeName } from '@free-lunch/contracts';
import {
  OUTBOX_ROWS_COLUMN,
  outboxInsertClause,
  prepareOutbox,
  type KeyedMessage,
  type OutboxRows,
} from '@free-lunch/streams';
import { OUTBOX_TABLE } from './schema.js';

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
// plan them once, not on every call. Those that take a batch of order ids must find it by primary
// key: batch-lookups.test.ts holds the plan PostgreSQL caches for them (at a statement's sixth call,
// on a new database while the table holds a few rows) to the index, as the table grows to
// thousands. Marking a batch dispatched says "still pending" as `dispatched_at IS NULL`, which
// the CHECK constraint makes the same as `status = 'pending'` (keep the two in step if a status is
// ever added): with the status, the planner reads the partial index of the whole queue, which before
// statistics are gathered (autovacuum's next ANALYZE) it guesses is tiny, for each batch of a burst.

/**
 * Stores requests not seen before, adds what they need to the pending totals and, if there were
 * any, announces them on {@link NEW_REQUESTS_CHANNEL} when it commits: ONE statement, so one round
 * trip and atomic without a transaction. Returns the order ids that were new. Duplicates are
 * ignored (and add nothing).
 */
export async function insertRequests(db: pg.Pool | pg.ClientBase, requests: readonly IngredientRequest[]): Promise<string[]> {
  if (requests.length === 0) return [];
  // Every ingredient the batch names, whether or not its request turns out new: the rows are locked
  // in this order before any is changed (LOCK_NEEDS_CTE).
  const ingredients = [...new Set(requests.flatMap((request) => request.needs.map((need) => need.ingredient)))].sort();
  const { rows } = await db.query<{ added: string[] | null }>({
    name: 'inventory.insert-requests',
    // One JSON document for the batch: a jsonb[] parameter has the driver escape every element.
    // Inserted in the order given, which is the order they join the queue in. The notification is
    // selected, since a plain SELECT in a WITH runs only if something reads it.
    text: `WITH added AS (
       INSERT INTO requests (order_id, recipe, ingredients, requested_at)
       SELECT r.order_id, r.recipe, r.ingredients, r.requested_at
         FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY AS e (request, position),
              jsonb_to_record(e.request) AS r (order_id uuid, recipe text, ingredients jsonb, requested_at timestamptz)
        ORDER BY e.position
       ON CONFLICT (order_id) DO NOTHING
       RETURNING order_id, ingredients
     ), added_needs AS (
       SELECT n.ingredient, sum(n.quantity)::int AS delta
         FROM added, jsonb_to_recordset(added.ingredients) AS n (ingredient text, quantity int)
        GROUP BY n.ingredient
     ), ${LOCK_NEEDS_CTE('$2')}, needs AS (
       UPDATE pending_needs AS p SET units = p.units + d.delta
         FROM added_needs AS d JOIN locked_needs AS l USING (ingredient)
        WHERE p.ingredient = d.ingredient
     ), announced AS (
       SELECT pg_notify('${NEW_REQUESTS_CHANNEL}', '') WHERE EXISTS (SELECT FROM added)
     )
     SELECT (SELECT array_agg(order_id::text) FROM added) AS added, (SELECT count(*) FROM announced) AS announced`,
    values: [
      JSON.stringify(
        requests.map((r) => ({ order_id: r.orderId, recipe: r.recipe, ingredients: r.needs, requested_at: r.requestedAt })),
      ),
      ingredients,
    ],
  });
  return rows[0]?.added ?? [];
}

/** Of the given orders, those whose ingredients have already left the warehouse. */
export async function findDispatchedRequests(
  db: pg.Pool | pg.ClientBase,
  orderIds: readonly string[],
): Promise<DispatchedRequest[]> {
  if (orderIds.length === 0) return [];
  const { rows } = await db.query<{
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

/** A waiting request as the queue reads return it. */
interface QueueRow {
  order_id: string;
  recipe: RecipeName;
  ingredients: IngredientQuantity[];
  arrival: string;
}

const toQueuedRequest = (row: QueueRow): QueuedRequest => ({
  orderId: row.order_id,
  recipe: row.recipe,
  needs: row.ingredients,
  arrival: row.arrival,
});

/** A page of the queue, and the most requests it could have held: a page shorter than that ends the queue. */
export interface QueuePage {
  requests: QueuedRequest[];
  limit: number;
}

/**
 * How many requests the first page of the queue holds: `units on hand / 3 + slack`, at most `max`
 * (whole numbers, they are written into the SQL).
 */
export interface QueueHeadSize {
  max: number;
  slack: number;
}

/**
 * The first page of the queue sized to the stock ({@link QueueHeadSize}), as a statement without
 * parameters, to go in one round trip with others; {@link queueHeadOf} reads its result. Each row
 * carries the page's size.
 */
export function queueHeadSql({ max, slack }: QueueHeadSize): string {
  const whole = (n: number) => {
    if (!Number.isSafeInteger(n)) throw new Error(`a queue page size must be a whole number, got ${n}`);
    return n;
  };
  return `WITH head AS (
      SELECT least(${whole(max)}, ceil(coalesce(sum(greatest(on_hand, 0)), 0) / 3.0)::int + ${whole(slack)}) AS size FROM stock
    )
    SELECT order_id, recipe, ingredients, arrival, head.size AS page_size
      FROM requests, head
     WHERE status = 'pending'
     ORDER BY arrival
     LIMIT (SELECT size FROM head)`;
}

/** The page {@link queueHeadSql} read. */
export function queueHeadOf(result: pg.QueryResult): QueuePage {
  const rows = result.rows as Array<QueueRow & { page_size: number }>;
  return {
    requests: rows.map(toQueuedRequest),
    // No row: the queue is empty, whatever the size.
    limit: rows[0]?.page_size ?? 1,
  };
}

/** Up to `limit` waiting requests in the order they arrived, after queue position `after` if given. */
export async function loadPendingRequests(
  db: pg.Pool | pg.ClientBase,
  { after, limit }: { after: string | null; limit: number },
): Promise<QueuedRequest[]> {
  const { rows } = await db.query<QueueRow>({
    name: 'inventory.queue-page',
    text: `SELECT order_id, recipe, ingredients, arrival FROM requests
      WHERE status = 'pending' AND arrival > coalesce($1::int8, 0)
      ORDER BY arrival
      LIMIT $2`,
    values: [after, limit],
  });
  return rows.map(toQueuedRequest);
}

/**
 * Hands requests their ingredients, in ONE statement (one round trip, inside the caller's
 * transaction, which holds the stock lock): marks them served at `at`, writes a ledger row per
 * ingredient of each, changes the stock by `stockDelta` (what they take, plus anything the same
 * transaction bought), takes what they needed off the pending totals, and writes `announcements`
 * to the outbox. Only pending requests are marked, so none is dispatched twice; returns how many
 * were marked, and the caller must roll back unless that is all of them (the ledger, the totals and
 * the announcements assume every one was).
 */
export async function dispatchRequests(
  client: pg.ClientBase,
  {
    requests,
    at,
    stockDelta,
  }: {
    requests: ReadonlyArray<{ orderId: string; needs: readonly IngredientQuantity[] }>;
    at: Date;
    stockDelta: ReadonlyMap<Ingredient, number>;
  },
  announcements: readonly KeyedMessage[] = [],
): Promise<{ marked: number; outbox: OutboxRows }> {
  if (requests.length === 0) return { marked: 0, outbox: [] };
  const ledger = requests.flatMap(({ orderId, needs }) => needs.map((need) => ({ orderId, ...need })));
  const stock = [...stockDelta].filter(([, delta]) => delta !== 0);
  const needs = sortedChanges(totalNeeds(requests), -1);
  const outbox = prepareOutbox(announcements);
  const { rows } = await client.query<{ marked: number; outbox: unknown }>({
    name: 'inventory.dispatch',
    text: `WITH marked AS (
       UPDATE requests SET status = 'dispatched', dispatched_at = $2
        WHERE order_id = ANY($1::uuid[]) AND dispatched_at IS NULL
       RETURNING 1
     ), ledger AS (
       INSERT INTO stock_ledger (ingredient, delta, reason, order_id, at)
       SELECT d.ingredient, -d.quantity, 'dispatch', d.order_id, $2
         FROM unnest($3::uuid[], $4::text[], $5::int[]) AS d (order_id, ingredient, quantity)
     ), stock_change AS (
       UPDATE stock AS s SET on_hand = s.on_hand + d.delta
         FROM unnest($6::text[], $7::int[]) AS d (ingredient, delta)
        WHERE s.ingredient = d.ingredient
     ), ${LOCK_NEEDS_CTE('$8')}, needs AS (
       ${UPDATE_NEEDS_SQL('$8', '$9')}
     ), ${outboxInsertClause(OUTBOX_TABLE, '$10', () => 'true')}
     SELECT (SELECT count(*)::int FROM marked) AS marked, ${OUTBOX_ROWS_COLUMN}`,
    values: [
      requests.map((request) => request.orderId),
      at,
      ledger.map((row) => row.orderId),
      ledger.map((row) => row.ingredient),
      ledger.map((row) => row.quantity),
      stock.map(([ingredient]) => ingredient),
      stock.map(([, delta]) => delta),
      needs.map(([ingredient]) => ingredient),
      needs.map(([, delta]) => delta),
      outbox.param,
    ],
  });
  return { marked: rows[0]?.marked ?? 0, outbox: outbox.written(rows[0]?.outbox, () => true) };
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
 * The pending totals' rows to change, locked in ingredient order (`$ingredients`, a text[]), so
 * consumers and allocators of every replica changing them at once queue up instead of deadlocking;
 * an allocator holds the stock lock before these, and nobody takes them the other way round. The
 * update joins what this locked: it only ever changes a row already locked, and however PostgreSQL
 * plans it, the rows are locked in the sort's order.
 */
const LOCK_NEEDS_CTE = (ingredients: string) =>
  `locked_needs AS (SELECT ingredient FROM pending_needs WHERE ingredient = ANY(${ingredients}::text[]) ORDER BY ingredient FOR UPDATE)`;
const UPDATE_NEEDS_SQL = (ingredients: string, deltas: string) =>
  `UPDATE pending_needs AS p SET units = p.units + d.delta
     FROM unnest(${ingredients}::text[], ${deltas}::int[]) AS d (ingredient, delta)
     JOIN locked_needs AS l USING (ingredient)
    WHERE p.ingredient = d.ingredient`;

/** Changes per ingredient, signed, in ingredient order, leaving out zeros. */
function sortedChanges(units: ReadonlyMap<Ingredient, number>, sign: 1 | -1): Array<[Ingredient, number]> {
  return [...units]
    .filter(([, n]) => n !== 0)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([ingredient, n]) => [ingredient, sign * n]);
}

/** How many requests are waiting, for the metrics gauge. */
export async function countPendingRequests(db: pg.Pool): Promise<number> {
  const { rows } = await db.query<{ count: string }>(`SELECT count(*) FROM requests WHERE status = 'pending'`);
  return Number(rows[0]?.count ?? 0);
}

/**
 * PostgreSQL channel on which new requests are announced at commit ({@link insertRequests}). The
 * active purchaser listens on it, whichever replica it runs in: its replica allocates for them, and
 * buys what they make short, without polling.
 */
export const NEW_REQUESTS_CHANNEL = 'inventory_new_requests';
