import type pg from 'pg';
import { ingredients, type Ingredient, type StockLevel } from '@free-lunch/contracts';
import { inTransaction } from '@free-lunch/service-kit';
import { queueHeadOf, queueHeadSql, type QueueHeadSize, type QueuePage } from './requests.js';

/** The stock and the first page of the queue, read in that order. */
export interface StockAndQueueHead {
  stock: Map<Ingredient, number>;
  head: QueuePage;
}

type StockRow = { ingredient: Ingredient; on_hand: number };

const stockOf = (result: pg.QueryResult): Map<Ingredient, number> =>
  new Map((result.rows as StockRow[]).map((row) => [row.ingredient, row.on_hand]));

/**
 * Runs `work` in a transaction that first locks every stock row, always in ingredient order, and
 * reads the head of the queue: both in the round trip of its BEGIN. Whoever changes stock locks
 * first, so allocators and the purchaser on any replica take turns and never deadlock, and the queue
 * read under the lock reflects every dispatch committed before.
 */
export function withStockLocked<T>(
  pool: pg.Pool,
  headSize: QueueHeadSize,
  work: (client: pg.PoolClient, locked: StockAndQueueHead) => Promise<T>,
): Promise<T> {
  return inTransaction(
    pool,
    (client, [stock, head]) => work(client, { stock: stockOf(stock!), head: queueHeadOf(head!) }),
    { opening: `SELECT ingredient, on_hand FROM stock ORDER BY ingredient FOR UPDATE; ${queueHeadSql(headSize)}` },
  );
}

/**
 * The stock and then the head of the queue as last committed, without locking anything, in one
 * round trip (each statement sees what was committed when it started).
 */
export async function readStockAndQueueHead(pool: pg.Pool, headSize: QueueHeadSize): Promise<StockAndQueueHead> {
  const [stock, head] = (await pool.query(`SELECT ingredient, on_hand FROM stock; ${queueHeadSql(headSize)}`)) as unknown as pg.QueryResult[];
  return { stock: stockOf(stock!), head: queueHeadOf(head!) };
}

/** Adds (or, negative, removes) units per ingredient in one statement. The CHECK keeps it ≥ 0. */
export async function adjustStock(client: pg.ClientBase, deltas: ReadonlyMap<Ingredient, number>): Promise<void> {
  const changes = [...deltas].filter(([, delta]) => delta !== 0);
  if (changes.length === 0) return;
  await client.query({
    name: 'inventory.adjust-stock',
    text: `UPDATE stock AS s SET on_hand = s.on_hand + d.delta
       FROM unnest($1::text[], $2::int[]) AS d (ingredient, delta)
      WHERE s.ingredient = d.ingredient`,
    values: [changes.map(([ingredient]) => ingredient), changes.map(([, delta]) => delta)],
  });
}

/** Units on hand per ingredient as last committed, without locking anything. */
export async function readStockLevels(db: pg.Pool | pg.ClientBase): Promise<Map<Ingredient, number>> {
  const { rows } = await db.query<{ ingredient: Ingredient; on_hand: number }>({
    name: 'inventory.read-stock',
    text: 'SELECT ingredient, on_hand FROM stock',
  });
  return new Map(rows.map((row) => [row.ingredient, row.on_hand]));
}

/** Stock levels in the order of the contracts' ingredient list (the order the dashboard shows). */
export async function readStock(db: pg.Pool | pg.ClientBase): Promise<StockLevel[]> {
  return toStockLevels(await readStockLevels(db));
}

/** A stock snapshot as the contracts spell it, in the contracts' ingredient order. */
export function toStockLevels(stock: ReadonlyMap<Ingredient, number>): StockLevel[] {
  return ingredients.filter((ingredient) => stock.has(ingredient)).map((ingredient) => ({
    ingredient,
    onHand: stock.get(ingredient)!,
  }));
}
