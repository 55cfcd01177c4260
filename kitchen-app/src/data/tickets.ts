import type pg from 'pg';
import type { IngredientQuantity, RecipeName } from '@free-lunch/contracts';
import {
  OUTBOX_ROWS_COLUMN,
  outboxInsertClause,
  prepareOutbox,
  type KeyedMessage,
  type OutboxRows,
} from '@free-lunch/streams';
import type {
  DeliveredTicket,
  Ticket,
  TicketStatus,
  TicketWithIngredients,
} from '../domain/ticket.js';
import { OUTBOX_TABLE } from './schema.js';

// Every statement here works on a whole batch at once (arrays through unnest / ANY), so a batch of
// 500 messages costs one or two round trips, not 500. Status literals mirror `ticketTransitions` in
// the domain; where a statement scans by status they stay literals, so the planner matches the
// partial indexes.
//
// The statements that take a batch of order ids must find it by primary key instead, so:
// - they are named, so each connection plans them once, and batch-lookups.test.ts holds the plan
//   PostgreSQL caches to the index: it settles on it at a statement's sixth call, which on a new
//   database comes while the table holds a few tickets; the test makes it so, then grows the table
//   to thousands and fails if a batch reads more than its own rows;
// - they say "still awaiting ingredients" as `dispatched_at IS NULL`, which the CHECK constraint
//   makes the same as `status = 'awaiting_ingredients'` (keep the two in step if a status is ever
//   added). With the status, the planner reads the partial index of every waiting ticket, which
//   before statistics are gathered (autovacuum's next ANALYZE) it guesses is tiny: in a burst, the
//   thousands waiting for each batch;
// - and the sessions cost index reads as in memory (`random_page_cost`, service-kit's postgres plugin).

interface TicketRow {
  order_id: string;
  recipe: RecipeName;
  status: TicketStatus;
  requested_at: Date;
  dispatched_at: Date | null;
  ready_at: Date | null;
  delivered_at: Date | null;
}

const COLUMNS = ['order_id', 'recipe', 'status', 'requested_at', 'dispatched_at', 'ready_at', 'delivered_at'];
const TICKET_COLUMNS = COLUMNS.join(', ');

/** The ticket columns qualified by `table`, for statements where a join makes bare names ambiguous. */
function ticketColumnsOf(table: string): string {
  return COLUMNS.map((column) => `${table}.${column}`).join(', ');
}

/** The table's CHECK constraint guarantees these; a null here means the schema and code disagree. */
function reached(value: Date | null, column: string, orderId: string): Date {
  if (value === null) throw new Error(`ticket ${orderId} is missing ${column} for its status`);
  return value;
}

function toTicket(row: TicketRow): Ticket {
  const base = { orderId: row.order_id, recipe: row.recipe, requestedAt: row.requested_at };
  switch (row.status) {
    case 'awaiting_ingredients':
      return { ...base, status: row.status };
    case 'cooking':
      return {
        ...base,
        status: row.status,
        dispatchedAt: reached(row.dispatched_at, 'dispatched_at', row.order_id),
        readyAt: reached(row.ready_at, 'ready_at', row.order_id),
      };
    case 'delivered':
      return {
        ...base,
        status: row.status,
        dispatchedAt: reached(row.dispatched_at, 'dispatched_at', row.order_id),
        readyAt: reached(row.ready_at, 'ready_at', row.order_id),
        deliveredAt: reached(row.delivered_at, 'delivered_at', row.order_id),
      };
  }
}

function expectStatus<S extends TicketStatus>(ticket: Ticket, status: S): Extract<Ticket, { status: S }> {
  if (ticket.status !== status) throw new Error(`ticket ${ticket.orderId} is ${ticket.status}, expected ${status}`);
  return ticket as Extract<Ticket, { status: S }>;
}

export interface TicketOpening {
  orderId: string;
  /** Used only if the order has no ticket yet: an existing ticket keeps the recipe it was given. */
  recipe: RecipeName;
}

export interface OpenedTickets {
  /** The orders whose tickets this call opened, awaiting ingredients. */
  opened: Set<string>;
  /** Tickets that already existed (a redelivery or a reconciler nudge), as they were. */
  existing: TicketWithIngredients[];
  /** The outbox rows it wrote, to publish once committed. */
  outbox: OutboxRows;
}

/**
 * Opens a ticket, requested `at`, for every order that has none, with the `announcements` (keyed
 * by order id) of those it opened, and returns the tickets that already existed, each with its
 * recipe's ingredients from the recipe book: ONE statement, so one round trip and atomic without a
 * transaction.
 *
 * The "existing" half reads the snapshot taken before the insert, so a ticket is never reported
 * twice. An order whose ticket another kitchen is opening at this very moment is in neither half:
 * the insert waits for that statement and skips the row, and it is that kitchen which announces it.
 */
export async function openTickets(
  db: pg.Pool | pg.ClientBase,
  openings: readonly TicketOpening[],
  at: Date,
  announcements: readonly KeyedMessage[],
): Promise<OpenedTickets> {
  // Sorted, so two kitchens inserting overlapping batches take row locks in the same order and
  // cannot deadlock.
  const sorted = [...openings].sort((a, b) => (a.orderId < b.orderId ? -1 : a.orderId > b.orderId ? 1 : 0));
  const outbox = prepareOutbox(announcements);
  // One row per ticket that existed, each also carrying the opened ids and the outbox rows; one
  // row with no ticket when none existed.
  const { rows } = await db.query<
    { opened: string[] | null; outbox: unknown } & { [K in keyof TicketRow]: TicketRow[K] | null } & {
      ingredients: IngredientQuantity[] | null;
    }
  >({
    name: 'kitchen.open',
    text: `WITH placed AS (
       SELECT order_id, recipe FROM unnest($1::uuid[], $2::text[]) WITH ORDINALITY AS p (order_id, recipe, n)
       ORDER BY n
     ), opened AS (
       INSERT INTO tickets (order_id, recipe, status, requested_at)
       SELECT order_id, recipe, 'awaiting_ingredients', $3 FROM placed
       ON CONFLICT (order_id) DO NOTHING
       RETURNING order_id
     ), ${outboxInsertClause(OUTBOX_TABLE, '$4', (key) => `${key}::uuid IN (SELECT order_id FROM opened)`)},
     existing AS (
       SELECT ${ticketColumnsOf('tickets')}, recipes.ingredients
         FROM tickets JOIN recipes ON recipes.name = tickets.recipe
        WHERE tickets.order_id = ANY($1::uuid[])
     )
     SELECT written.opened, written.outbox, existing.*
       FROM (SELECT (SELECT array_agg(order_id::text) FROM opened) AS opened, ${OUTBOX_ROWS_COLUMN}) AS written
       LEFT JOIN existing ON true`,
    values: [sorted.map((o) => o.orderId), sorted.map((o) => o.recipe), at, outbox.param],
  });
  const [first] = rows;
  const existing = rows.flatMap(({ ingredients, ...row }) =>
    row.order_id === null || ingredients === null ? [] : [{ ...toTicket(row as TicketRow), ingredients }],
  );
  const opened = new Set(first?.opened ?? []);
  return { opened, existing, outbox: outbox.written(first?.outbox, (key) => opened.has(key.toLowerCase())) };
}

/**
 * The tickets of these orders as they stand; orders without a ticket are simply absent. Read
 * without a lock: a ticket's recipe never changes, and its status only moves forward through
 * updates that re-check it ({@link cookTickets}, {@link deliverReadyTickets}).
 */
export async function loadTickets(db: pg.Pool | pg.ClientBase, orderIds: readonly string[]): Promise<Ticket[]> {
  const { rows } = await db.query<TicketRow>({
    name: 'kitchen.load-tickets',
    text: `SELECT ${TICKET_COLUMNS} FROM tickets WHERE order_id = ANY($1::uuid[])`,
    values: [orderIds],
  });
  return rows.map(toTicket);
}

export interface CookedTickets {
  /** The orders whose tickets this call moved (those still awaiting ingredients). */
  moved: Set<string>;
  /** The outbox rows it wrote, to publish once committed. */
  outbox: OutboxRows;
}

/**
 * Puts the tickets of these dishes on the stove at `at`, ready `cookTimeMs` later; with no cooking
 * time at all, takes them off again in the same update (dispatched, ready and delivered at `at`)
 * instead of writing each ticket twice. Only a ticket still awaiting ingredients, of the recipe the
 * dish names, moves (what `decideOnDispatch` says to cook), and only the `announcements` (keyed by
 * order id) of those that moved are written to the outbox: ONE statement, so one round trip
 * and atomic without a transaction. `at` is the caller's clock, the one its announcements carry;
 * the cook loop compares `ready_at` with the database's, so clocks set apart by more than a
 * cooking time would cook early or late, never twice.
 */
export async function cookTickets(
  db: pg.Pool | pg.ClientBase,
  dishes: ReadonlyArray<{ orderId: string; recipe: RecipeName }>,
  { at, cookTimeMs }: { at: Date; cookTimeMs: number },
  announcements: readonly KeyedMessage[],
): Promise<CookedTickets> {
  if (dishes.length === 0) return { moved: new Set(), outbox: [] };
  const outbox = prepareOutbox(announcements);
  const { rows } = await db.query<{ moved: string[] | null; outbox: unknown }>({
    name: 'kitchen.cook',
    text: `WITH moved AS (
       UPDATE tickets AS t
          SET status = CASE WHEN $3::bigint = 0 THEN 'delivered' ELSE 'cooking' END,
              dispatched_at = $2, ready_at = $2::timestamptz + $3::bigint * interval '1 millisecond',
              delivered_at = CASE WHEN $3::bigint = 0 THEN $2::timestamptz END
         FROM unnest($1::uuid[], $5::text[]) AS d (order_id, recipe)
        WHERE t.order_id = d.order_id AND t.recipe = d.recipe AND t.dispatched_at IS NULL
        RETURNING t.order_id
     ), ${outboxInsertClause(OUTBOX_TABLE, '$4', (key) => `${key}::uuid IN (SELECT order_id FROM moved)`)}
     SELECT (SELECT array_agg(order_id::text) FROM moved) AS moved, ${OUTBOX_ROWS_COLUMN}`,
    values: [dishes.map((dish) => dish.orderId), at, cookTimeMs, outbox.param, dishes.map((dish) => dish.recipe)],
  });
  const [row] = rows;
  const moved = new Set(row?.moved ?? []);
  return { moved, outbox: outbox.written(row?.outbox, (key) => moved.has(key.toLowerCase())) };
}

/**
 * Takes up to `limit` dishes whose cooking time is over off the stove, soonest-ready first.
 * SKIP LOCKED lets several kitchens run this at once: each takes different dishes, none waits.
 */
export async function deliverReadyTickets(tx: pg.ClientBase, limit: number): Promise<DeliveredTicket[]> {
  const { rows } = await tx.query<TicketRow>({
    name: 'kitchen.deliver-ready',
    text: `WITH ready AS (
       SELECT order_id FROM tickets
        WHERE status = 'cooking' AND ready_at <= now()
        ORDER BY ready_at
        LIMIT $1
        FOR UPDATE SKIP LOCKED
     )
     UPDATE tickets SET status = 'delivered', delivered_at = now()
       FROM ready
      WHERE tickets.order_id = ready.order_id
      RETURNING ${ticketColumnsOf('tickets')}`,
    values: [limit],
  });
  return rows.map((row) => expectStatus(toTicket(row), 'delivered'));
}

/**
 * Milliseconds until the next dish on the stove is ready (0 if one already is), or null when
 * nothing is cooking. Computed by the database, so the app's clock never enters into it.
 */
export async function timeUntilNextDishIsReady(db: pg.Pool): Promise<number | null> {
  const { rows } = await db.query<{ wait_ms: number | null }>({
    name: 'kitchen.next-ready',
    // Not GREATEST(0, …) in SQL: GREATEST skips NULLs, so "nothing cooking" would read as "ready now"
    // and the cook loop would poll every few milliseconds while the kitchen is idle.
    text: `SELECT CEIL(EXTRACT(EPOCH FROM min(ready_at) - clock_timestamp()) * 1000)::int AS wait_ms
       FROM tickets WHERE status = 'cooking'`,
  });
  const waitMs = rows[0]?.wait_ms ?? null;
  return waitMs === null ? null : Math.max(0, waitMs);
}

/** Tickets still in the kitchen, per status; each count reads only its small partial index. */
export async function countTicketsInProgress(
  db: pg.Pool,
): Promise<{ awaiting_ingredients: number; cooking: number }> {
  const { rows } = await db.query<{ awaiting_ingredients: number; cooking: number }>(
    `SELECT (SELECT count(*) FROM tickets WHERE status = 'awaiting_ingredients')::int AS awaiting_ingredients,
            (SELECT count(*) FROM tickets WHERE status = 'cooking')::int AS cooking`,
  );
  return rows[0] ?? { awaiting_ingredients: 0, cooking: 0 };
}
