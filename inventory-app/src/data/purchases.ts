import type pg from 'pg';
import type { Ingredient, PurchaseOutcome, PurchaseRecord } from '@free-lunch/contracts';

/** One market call as it came back. */
export interface PurchaseAttempt {
  ingredient: Ingredient;
  outcome: PurchaseOutcome;
  quantitySold: number;
  error: string | null;
  at: Date;
}

interface PurchaseRow {
  id: string;
  ingredient: Ingredient;
  quantity_sold: number;
  outcome: PurchaseOutcome;
  error: string | null;
  at: Date;
}

const toRecord = (row: PurchaseRow): PurchaseRecord => ({
  id: row.id,
  ingredient: row.ingredient,
  quantitySold: row.quantity_sold,
  outcome: row.outcome,
  error: row.error,
  at: row.at.toISOString(),
});

/**
 * Records every attempt and, for each sale, the ledger row bringing its units in, in one statement.
 * Ids follow the given order, which is the order the history is listed in. Stock itself is
 * adjusted by the caller in the same transaction.
 */
export async function recordPurchases(
  client: pg.ClientBase,
  attempts: readonly PurchaseAttempt[],
): Promise<PurchaseRecord[]> {
  if (attempts.length === 0) return [];
  const { rows } = await client.query<PurchaseRow>({
    name: 'inventory.record-purchases',
    text: `WITH attempt AS (
       INSERT INTO purchases (ingredient, quantity_sold, outcome, error, at)
       SELECT a.ingredient, a.quantity_sold, a.outcome, a.error, a.at
         FROM unnest($1::text[], $2::int[], $3::text[], $4::text[], $5::timestamptz[])
              WITH ORDINALITY AS a (ingredient, quantity_sold, outcome, error, at, position)
        ORDER BY a.position
       RETURNING id, ingredient, quantity_sold, outcome, error, at
     ), bought AS (
       INSERT INTO stock_ledger (ingredient, delta, reason, purchase_id, at)
       SELECT ingredient, quantity_sold, 'purchase', id, at FROM attempt WHERE quantity_sold > 0
     )
     SELECT * FROM attempt ORDER BY id`,
    values: [
      attempts.map((a) => a.ingredient),
      attempts.map((a) => a.quantitySold),
      attempts.map((a) => a.outcome),
      attempts.map((a) => a.error),
      attempts.map((a) => a.at),
    ],
  });
  return rows.map(toRecord);
}

/**
 * Marks purchase rounds as recorded, inside the transaction that records them; returns the ids not
 * recorded before. A round already there was recorded by an attempt that committed although its
 * caller saw it fail, and must not be recorded again.
 */
export async function claimRounds(client: pg.ClientBase, roundIds: readonly string[]): Promise<Set<string>> {
  if (roundIds.length === 0) return new Set();
  const { rows } = await client.query<{ id: string }>({
    name: 'inventory.claim-rounds',
    text: 'INSERT INTO purchase_rounds (id) SELECT unnest($1::uuid[]) ON CONFLICT (id) DO NOTHING RETURNING id',
    values: [roundIds],
  });
  return new Set(rows.map((row) => row.id));
}

/**
 * Forgets rounds recorded before `before`: a retry of one that old cannot come (rounds wait for a
 * retry in the purchaser's memory). Returns how many were removed.
 */
export async function pruneRounds(db: pg.Pool | pg.ClientBase, before: Date): Promise<number> {
  const { rowCount } = await db.query('DELETE FROM purchase_rounds WHERE recorded_at < $1', [before]);
  return rowCount ?? 0;
}

/** Up to `limit` attempts, newest first, older than the purchase `beforeId` when given. */
export async function listPurchases(
  db: pg.Pool | pg.ClientBase,
  limit: number,
  beforeId: string | null,
): Promise<PurchaseRecord[]> {
  const { rows } = await db.query<PurchaseRow>(
    `SELECT id, ingredient, quantity_sold, outcome, error, at FROM purchases
      WHERE $1::int8 IS NULL OR id < $1::int8
      ORDER BY id DESC
      LIMIT $2`,
    [beforeId, limit],
  );
  return rows.map(toRecord);
}
