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

interface SaleRow {
  seq: string;
  ingredient: Ingredient;
  quantity_sold: number;
  at: Date;
}

const toSale = (row: SaleRow): JournaledSale => ({
  seq: Number(row.seq),
  ingredient: row.ingredient,
  quantitySold: row.quantity_sold,
  at: row.at,
});

/**
 * Takes `purchaser`'s own sales `seqs` out of the journal, inside the transaction that records them,
 * and returns those that were there: a sale another purchaser has replayed already is not returned.
 */
export async function takeOwnSales(client: pg.ClientBase, purchaser: string, seqs: readonly number[]): Promise<JournaledSale[]> {
  if (seqs.length === 0) return [];
  const { rows } = await client.query<SaleRow>({
    name: 'inventory.take-own-sales',
    text: `DELETE FROM market_journal
      WHERE purchaser = $1 AND seq = ANY($2::int8[]) AND taken_at IS NULL
      RETURNING seq, ingredient, quantity_sold, at`,
    values: [purchaser, seqs],
  });
  return rows.map(toSale);
}

/**
 * Takes every sale of the other purchasers that no one has recorded, inside the transaction that
 * records them (a replay): the rows stay, marked taken, so that a write of one retried by a
 * purchaser still alive adds nothing. Two replays, or a replay and the sale's own purchaser, racing
 * for a row: the second waits for the first's commit, then finds the row taken (or gone) and skips it.
 */
export async function takeOthersSales(client: pg.ClientBase, purchaser: string): Promise<JournaledSale[]> {
  const { rows } = await client.query<SaleRow>({
    name: 'inventory.take-others-sales',
    text: `UPDATE market_journal SET taken_at = now()
      WHERE taken_at IS NULL AND purchaser <> $1
      RETURNING seq, ingredient, quantity_sold, at`,
    values: [purchaser],
  });
  return rows.map(toSale);
}

/** Forgets replayed sales taken before `before` (a retried write of one comes within minutes). Returns how many. */
export async function pruneJournal(db: pg.Pool | pg.ClientBase, before: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM market_journal WHERE taken_at < $1', [before]);
  return rowCount ?? 0;
}
