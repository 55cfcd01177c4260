import type pg from 'pg';
import type { Ingredient } from '@free-lunch/contracts';

/** A sale as the journal keeps it: its purchaser's count, what and how much was sold, and when. */
export interface JournaledSale {
  seq: number;
  ingredient: Ingredient;
  quantitySold: number;
  at: Date;
}

/**
 * Writes sales of `purchaser` to the journal in one statement (its own transaction). A sale written
 * before, by an attempt whose answer was lost, is left as it is, taken or not.
 */
export async function journalSales(db: pg.Pool | pg.ClientBase, purchaser: string, sales: readonly JournaledSale[]): Promise<void> {
  if (sales.length === 0) return;
  await db.query({
    name: 'inventory.journal-sales',
    text: `INSERT INTO market_journal (purchaser, seq, ingredient, quantity_sold, at)
     SELECT $1, s.seq, s.ingredient, s.quantity_sold, s.at
       FROM unnest($2::int8[], $3::text[], $4::int[], $5::timestamptz[]) AS s (seq, ingredient, quantity_sold, at)
     ON CONFLICT (purchaser, seq) DO NOTHING`,
    values: [
      purchaser,
      sales.map((sale) => sale.seq),
      sales.map((sale) => sale.ingredient),
      sales.map((sale) => sale.quantitySold),
      sales.map((sale) => sale.at),
    ],
  });
}

/** Forgets replayed sales taken before `before` (a retried write of one comes within minutes). Returns how many. */
export async function pruneJournal(db: pg.Pool | pg.ClientBase, before: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM market_journal WHERE taken_at < $1', [before]);
  return rowCount ?? 0;
}
