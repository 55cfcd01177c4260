import type pg from 'pg';
import { ingredients, type Ingredient, type StockLevel } from '@free-lunch/contracts';

/**
 * Locks every stock row, always in ingredient order, and returns what is on hand. Whoever changes
 * stock locks first, so allocators and the purchaser on any replica take turns and never deadlock.
 */
export async function lockStock(client: pg.ClientBase): Promise<Map<Ingredient, number>> {
  const { rows } = await client.query<{ ingredient: Ingredient; on_hand: number }>({
    name: 'inventory.lock-stock',
    text: 'SELECT ingredient, on_hand FROM stock ORDER BY ingredient FOR UPDATE',
  });
  return new Map(rows.map((row) => [row.ingredient, row.on_hand]));
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
