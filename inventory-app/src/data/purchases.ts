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

/** A round's market calls as the purchaser kept them, under the round's id. */
export interface RoundCalls {
  roundId: string;
  /** A call whose sale is in the journal carries its place there (`journalSeq`), and is taken from it. */
  calls: ReadonlyArray<PurchaseAttempt & { journalSeq?: number }>;
}

/**
 * Records purchase rounds, inside the transaction that holds the stock lock, in ONE statement:
 * claims the rounds not recorded before (a round already claimed was recorded by an attempt that
 * committed although its caller saw it fail, and must not be recorded again); takes the journaled
 * sales of the claimed rounds out of `purchaser`'s journal (a sale another purchaser replayed
 * already is not there any more) and, with `replayOthers`, every sale of other purchasers no one
 * has recorded (a replay: those rows stay, marked taken, so that a write of one retried by a
 * purchaser still alive adds nothing; of two replays racing for a row, the second waits for the
 * first's commit, then finds the row taken or gone and skips it); and records as purchases those sales
 * and the claimed rounds' calls that are not in the journal (zeros, faults, sales it refused), in
 * the order the market answered, each sale with the ledger row bringing its units in. Returns the
 * purchases recorded, in that order. Stock itself is adjusted by the caller in the same transaction.
 */
export async function recordPurchaseRounds(
  client: pg.ClientBase,
  { purchaser, replayOthers, rounds }: { purchaser: string; replayOthers: boolean; rounds: readonly RoundCalls[] },
): Promise<PurchaseRecord[]> {
  const calls = rounds.flatMap(({ roundId, calls }) =>
    calls.map((call) => ({
      round: roundId,
      seq: call.journalSeq ?? null,
      ingredient: call.ingredient,
      quantity_sold: call.quantitySold,
      outcome: call.outcome,
      error: call.error,
      at: call.at,
    })),
  );
  const { rows } = await client.query<PurchaseRow>({
    name: 'inventory.record-purchase-rounds',
    // One JSON document for the calls: arrays of nullable columns would each need escaping. The
    // journal's rows are found by their key with the seqs as one array: joined with the calls, the
    // planner (expecting a hundred calls from a JSON document) compares every pair in a burst.
    text: `WITH claimed AS (
       INSERT INTO purchase_rounds (id) SELECT unnest($1::uuid[]) ON CONFLICT (id) DO NOTHING RETURNING id
     ), calls AS (
       SELECT c.seq, c.ingredient, c.quantity_sold, c.outcome, c.error, c.at, e.position
         FROM jsonb_array_elements($2::jsonb) WITH ORDINALITY AS e (call, position),
              jsonb_to_record(e.call) AS c (round uuid, seq int8, ingredient text, quantity_sold int, outcome text, error text, at timestamptz)
        WHERE c.round IN (SELECT id FROM claimed)
     ), own_sales AS (
       DELETE FROM market_journal
        WHERE purchaser = $3 AND taken_at IS NULL AND seq = ANY(ARRAY(SELECT seq FROM calls WHERE seq IS NOT NULL))
       RETURNING seq, ingredient, quantity_sold, at
     ), others_sales AS (
       UPDATE market_journal SET taken_at = now()
        WHERE $4::boolean AND taken_at IS NULL AND purchaser <> $3
       RETURNING seq, ingredient, quantity_sold, at
     ), attempts AS (
       SELECT ingredient, quantity_sold, outcome, error, at, 0 AS source, position AS n FROM calls WHERE seq IS NULL
       UNION ALL SELECT ingredient, quantity_sold, 'sold', NULL, at, 1, seq FROM own_sales
       UNION ALL SELECT ingredient, quantity_sold, 'sold', NULL, at, 2, seq FROM others_sales
     ), attempt AS (
       INSERT INTO purchases (ingredient, quantity_sold, outcome, error, at)
       SELECT ingredient, quantity_sold, outcome, error, at FROM attempts ORDER BY at, source, n
       RETURNING id, ingredient, quantity_sold, outcome, error, at
     ), bought AS (
       INSERT INTO stock_ledger (ingredient, delta, reason, purchase_id, at)
       SELECT ingredient, quantity_sold, 'purchase', id, at FROM attempt WHERE quantity_sold > 0
     )
     SELECT * FROM attempt ORDER BY id`,
    values: [rounds.map((round) => round.roundId), JSON.stringify(calls), purchaser, replayOthers],
  });
  return rows.map(toRecord);
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
