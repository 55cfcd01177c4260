import type pg from 'pg';
import {
  orderStatuses,
  type Order,
  type OrderCounts,
  type OrderStatus,
  type OrderSummaryItem,
  type PlaceOrdersResponse,
  type RecipeName,
} from '@free-lunch/contracts';
import {
  OUTBOX_ROWS_COLUMN,
  outboxInsertClause,
  prepareOutbox,
  type KeyedMessage,
  type OutboxRows,
} from '@free-lunch/streams';
import type { OrderCursor } from '../domain/order-cursor.js';
import type { OrderAdvance, TimelineLine } from '../domain/status-changes.js';
import { OUTBOX_TABLE } from './schema.js';

interface OrderRow {
  id: string;
  status: OrderStatus;
  recipe: RecipeName | null;
  created_at: Date;
  updated_at: Date;
}

function toSummary(row: OrderRow): OrderSummaryItem {
  return {
    id: row.id,
    status: row.status,
    recipe: row.recipe,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

/** The creation time to the microsecond, in a form `::timestamptz` reads back exactly. */
const EXACT_CREATED_AT = `to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`;

/** New orders to store, as {@link placeQueuedOrders} stores them. */
export interface Placement {
  ids: readonly string[];
  /** Their creation time: they were placed together. */
  at: Date;
  /**
   * The request's Idempotency-Key, claimed by the same statement together with the answer it
   * gets: the orders are stored only if the key was not taken.
   */
  idempotency?: { key: string; quantity: number; response: PlaceOrdersResponse };
}

/**
 * Stores new `queued` orders created `at`, the first line of each timeline and their
 * `announcements` (keyed by order id), and claims the Idempotency-Key with its answer, in ONE
 * statement whatever the number of orders: one round trip, atomic without a transaction. Returns
 * `placed: false`, having stored nothing, when the key was taken already; a request using the same
 * key at this very moment waits for this statement and then finds the key taken.
 */
export async function placeQueuedOrders(
  db: pg.Pool | pg.ClientBase,
  { ids, at, idempotency }: Placement,
  announcements: readonly KeyedMessage[],
): Promise<{ placed: boolean; outbox: OutboxRows }> {
  const outbox = prepareOutbox(announcements);
  const { rows } = await db.query<{ placed: boolean; outbox: unknown }>({
    name: 'orders.place-queued',
    text: `WITH claimed AS (
       INSERT INTO idempotency_keys (key, quantity, response)
       SELECT $3::text, $4::int, $5::jsonb WHERE $3::text IS NOT NULL
       ON CONFLICT (key) DO NOTHING
       RETURNING key
     ), admitted AS (
       SELECT $3::text IS NULL OR EXISTS (SELECT FROM claimed) AS placed
     ), placed AS (
       INSERT INTO orders (id, status, created_at, updated_at)
       SELECT id, 'queued', $2, $2 FROM unnest($1::uuid[]) AS id WHERE (SELECT placed FROM admitted)
       RETURNING id, status, created_at
     ), first_step AS (
       INSERT INTO order_timeline (order_id, status, at)
       SELECT id, status, created_at FROM placed
     ), ${outboxInsertClause(OUTBOX_TABLE, '$6', (key) => `${key}::uuid IN (SELECT id FROM placed)`)}
     SELECT (SELECT placed FROM admitted) AS placed, ${OUTBOX_ROWS_COLUMN}`,
    values: [
      ids,
      at,
      idempotency?.key ?? null,
      idempotency?.quantity ?? null,
      idempotency ? JSON.stringify(idempotency.response) : null,
      outbox.param,
    ],
  });
  const [row] = rows;
  const placed = row?.placed === true;
  return { placed, outbox: outbox.written(row?.outbox, () => placed) };
}

/**
 * One order with its timeline, oldest step first; null when there is no such order. Steps are
 * ordered by the lifecycle, which is their true order, rather than by timestamps that come from
 * different services' clocks.
 */
export async function findOrder(db: pg.Pool | pg.ClientBase, id: string): Promise<Order | null> {
  const result = await db.query<OrderRow & { step: OrderStatus | null; at: Date | null }>(
    `SELECT o.id, o.status, o.recipe, o.created_at, o.updated_at, t.status AS step, t.at
     FROM orders o
     LEFT JOIN order_timeline t ON t.order_id = o.id
     WHERE o.id = $1
     ORDER BY array_position($2::text[], t.status)`,
    [id, orderStatuses],
  );
  const [first] = result.rows;
  if (!first) return null;
  return {
    ...toSummary(first),
    timeline: result.rows.flatMap((row) =>
      row.step && row.at ? [{ status: row.step, at: row.at.toISOString() }] : [],
    ),
  };
}

export interface OrderPageQuery {
  status?: OrderStatus;
  limit: number;
  /** Start after this order (exclusive). */
  after?: OrderCursor;
}

/** A page of orders newest first, and where the next page starts (null on the last page). */
export async function listOrders(
  db: pg.Pool,
  query: OrderPageQuery,
): Promise<{ items: OrderSummaryItem[]; next: OrderCursor | null }> {
  const conditions: string[] = [];
  const params: unknown[] = [];
  if (query.status !== undefined) {
    params.push(query.status);
    conditions.push(`status = $${params.length}`);
  }
  if (query.after !== undefined) {
    params.push(query.after.createdAt, query.after.id);
    conditions.push(`(created_at, id) < ($${params.length - 1}::timestamptz, $${params.length}::uuid)`);
  }
  // One row more than asked tells whether another page follows without counting.
  params.push(query.limit + 1);
  const result = await db.query<OrderRow & { created_at_exact: string }>(
    `SELECT id, status, recipe, created_at, updated_at, ${EXACT_CREATED_AT} AS created_at_exact
     FROM orders
     ${conditions.length > 0 ? `WHERE ${conditions.join(' AND ')}` : ''}
     ORDER BY created_at DESC, id DESC
     LIMIT $${params.length}`,
    params,
  );
  const rows = result.rows.slice(0, query.limit);
  const last = rows.at(-1);
  const next =
    result.rows.length > query.limit && last ? { createdAt: last.created_at_exact, id: last.id } : null;
  return { items: rows.map(toSummary), next };
}

/** How many orders are in each status, and in all. */
export async function countOrdersByStatus(db: pg.Pool): Promise<OrderCounts> {
  const result = await db.query<{ status: OrderStatus; count: string }>(
    'SELECT status, count(*) AS count FROM orders GROUP BY status',
  );
  const counts: OrderCounts = { queued: 0, awaiting_ingredients: 0, cooking: 0, delivered: 0, total: 0 };
  for (const row of result.rows) {
    counts[row.status] = Number(row.count);
    counts.total += Number(row.count);
  }
  return counts;
}

/**
 * How many orders are not yet delivered, across every replica: an index-only count over
 * orders_unfinished_by_progress, which holds just those orders, however many were delivered today.
 */
export async function countUndeliveredOrders(db: pg.Pool): Promise<number> {
  // Unnamed: planned on each call, so it turns to the index once the table has grown.
  const result = await db.query<{ count: string }>(`SELECT count(*) AS count FROM orders WHERE status <> 'delivered'`);
  return Number(result.rows[0]!.count);
}

// The statement below runs for every batch of status events, so it is named: each connection plans
// it once. It looks orders up by a batch of ids and must find them by primary key:
// batch-lookups.test.ts holds the plan PostgreSQL caches (at a statement's sixth call, on a new
// database while the table holds a few orders) to the index as the table grows to thousands.

/** A status's place in the lifecycle, in SQL: its position in {@link orderStatuses}. */
const STATUS_RANK = (column: string) =>
  `array_position(ARRAY[${orderStatuses.map((status) => `'${status}'`).join(', ')}]::text[], ${column})`;

/**
 * In ONE statement (so one round trip, and atomic without a transaction around it): adds the
 * timeline lines of orders this service placed, a line already there (a redelivered event) left as
 * it was, and writes the new status and recipe of orders the advances move forward or teach their
 * recipe, whose progress time becomes now. The guard is evaluated on the row as it is when written
 * (PostgreSQL re-reads a row another transaction changed meanwhile), so a status only moves forward
 * and a known recipe stays. Returns the orders named that this service never placed.
 */
export async function recordProgress(
  db: pg.Pool | pg.ClientBase,
  { timeline, advances }: { timeline: readonly TimelineLine[]; advances: readonly OrderAdvance[] },
): Promise<{ unknownOrderIds: string[] }> {
  if (timeline.length === 0 && advances.length === 0) return { unknownOrderIds: [] };
  const named = [...new Set([...timeline.map((line) => line.orderId), ...advances.map((a) => a.orderId)])];
  const { rows } = await db.query<{ unknown: string[] | null }>({
    name: 'orders.record-progress',
    text: `WITH known AS (
       SELECT id FROM orders WHERE id = ANY($7::uuid[])
     ), timeline AS (
       INSERT INTO order_timeline (order_id, status, at)
       SELECT t.order_id, t.status, t.at FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS t (order_id, status, at)
        WHERE t.order_id IN (SELECT id FROM known)
       ON CONFLICT (order_id, status) DO NOTHING
     ), advanced AS (
       UPDATE orders o
       SET status = CASE WHEN ${STATUS_RANK('a.status')} > ${STATUS_RANK('o.status')} THEN a.status ELSE o.status END,
           recipe = coalesce(o.recipe, a.recipe),
           updated_at = now(),
           nudges = 0
       FROM unnest($4::uuid[], $5::text[], $6::text[]) AS a(id, status, recipe)
       WHERE o.id = a.id
         AND (${STATUS_RANK('a.status')} > ${STATUS_RANK('o.status')} OR (o.recipe IS NULL AND a.recipe IS NOT NULL))
     )
     SELECT array_agg(n.id::text) AS unknown FROM unnest($7::uuid[]) AS n (id) WHERE n.id NOT IN (SELECT id FROM known)`,
    values: [
      timeline.map((line) => line.orderId),
      timeline.map((line) => line.status),
      timeline.map((line) => line.at),
      advances.map((a) => a.orderId),
      advances.map((a) => a.status),
      advances.map((a) => a.recipe),
      named,
    ],
  });
  return { unknownOrderIds: rows[0]?.unknown ?? [] };
}

/** An order the reconciler re-announces. */
export interface NudgedOrder {
  id: string;
  createdAt: string;
}

/**
 * After this many nudges without progress the wait between two stops doubling: an order still
 * waiting for the market is re-sent every RECONCILE_AFTER_MS × 2^2 (2 minutes by default). Redis
 * losing its data does not wait for this: the consumer that finds its group gone re-drives every
 * unfinished order at once (`reDriveUnfinishedOrders`). This catches what no consumer can see, such
 * as a message dead-lettered and its cause since fixed.
 */
const MAX_NUDGE_DOUBLINGS = 2;

/** One round of nudges: the orders and the database's time of the round. */
export interface NudgeRound {
  orders: NudgedOrder[];
  /** The transaction's `now()`, which is every nudged order's `nudged_at`; null when none was. */
  at: Date | null;
}

/**
 * Marks up to `limit` unfinished orders that have shown no progress for `stuckForMs` as nudged now,
 * and returns them. An order nudged before waits twice as long as last time before the next nudge
 * (`stuckForMs`, then 2×, 4×, up to 2^{@link MAX_NUDGE_DOUBLINGS}×): one nudge repairs a lost
 * message, and an order that is only waiting for a slow market is not re-sent through the whole
 * pipeline every `stuckForMs`. Orders nudged at or after `notSince` are left out: a pass of several
 * rounds (with `stuckForMs` 0, each round would otherwise find the last one's orders again) nudges
 * each order once. SKIP LOCKED lets replicas reconcile side by side without taking the same orders,
 * and without waiting on orders a consumer is updating.
 */
export async function nudgeStuckOrders(
  tx: pg.ClientBase,
  { stuckForMs, limit, notSince = null }: { stuckForMs: number; limit: number; notSince?: Date | null },
): Promise<NudgeRound> {
  const result = await tx.query<{ id: string; created_at: Date; at: Date }>({
    name: 'orders.nudge-stuck',
    text: `WITH stuck AS (
       SELECT id FROM orders
       WHERE status <> 'delivered'
         AND updated_at < now() - make_interval(secs => $1::float8 / 1000)
         AND (nudged_at IS NULL
              OR (nudged_at < now() - make_interval(secs => $1::float8 / 1000 * 2 ^ greatest(least(nudges - 1, $3::int), 0))
                  AND ($4::timestamptz IS NULL OR nudged_at < $4::timestamptz)))
       ORDER BY updated_at
       LIMIT $2
       FOR UPDATE SKIP LOCKED
     )
     UPDATE orders o SET nudged_at = now(), nudges = o.nudges + 1
     FROM stuck WHERE o.id = stuck.id
     RETURNING o.id, o.created_at, now() AS at`,
    values: [stuckForMs, limit, MAX_NUDGE_DOUBLINGS, notSince],
  });
  return {
    orders: result.rows.map((row) => ({ id: row.id, createdAt: row.created_at.toISOString() })),
    at: result.rows[0]?.at ?? null,
  };
}
