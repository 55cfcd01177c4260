import type pg from 'pg';
import type { PlaceOrdersResponse } from '@free-lunch/contracts';

/** The first request made with an Idempotency-Key, and the answer it got. */
export interface FirstUse {
  quantity: number;
  response: PlaceOrdersResponse;
}

/**
 * How `key` was first used, or null if it was not (the key itself is claimed by the statement that
 * places the orders, see `placeQueuedOrders`).
 */
export async function findFirstUse(db: pg.Pool | pg.ClientBase, key: string): Promise<FirstUse | null> {
  const { rows } = await db.query<FirstUse>('SELECT quantity, response FROM idempotency_keys WHERE key = $1', [key]);
  return rows[0] ?? null;
}

/**
 * Forgets up to `limit` keys first used longer than `olderThanMs` ago, oldest first. Returns how
 * many were forgotten. Runs outside any request: a key being claimed right now is young.
 */
export async function forgetIdempotencyKeys(
  pool: pg.Pool,
  { olderThanMs, limit }: { olderThanMs: number; limit: number },
): Promise<number> {
  const forgotten = await pool.query(
    `DELETE FROM idempotency_keys
     WHERE key IN (
       SELECT key FROM idempotency_keys
       WHERE created_at < now() - make_interval(secs => $1::double precision / 1000)
       ORDER BY created_at
       LIMIT $2
       FOR UPDATE SKIP LOCKED
     )`,
    [olderThanMs, limit],
  );
  return forgotten.rowCount ?? 0;
}
