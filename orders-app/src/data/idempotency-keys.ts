import type pg from 'pg';
import type { PlaceOrdersResponse } from '@free-lunch/contracts';

/** The first request made with an Idempotency-Key, and the answer it got. */
export interface FirstUse {
  quantity: number;
  response: PlaceOrdersResponse;
}

/**
 * Takes `key` for this request, or returns how it was first used. The INSERT comes first in the
 * transaction: a concurrent request with the same key blocks on the uncommitted row until this one
 * commits (then it reads the stored answer) or rolls back (then it takes the key itself).
 */
export async function claimIdempotencyKey(
  tx: pg.ClientBase,
  key: string,
  quantity: number,
): Promise<FirstUse | null> {
  const claimed = await tx.query(
    `INSERT INTO idempotency_keys (key, quantity) VALUES ($1, $2)
     ON CONFLICT (key) DO NOTHING
     RETURNING key`,
    [key, quantity],
  );
  if (claimed.rowCount === 1) return null;
  // READ COMMITTED: this statement sees the row the other transaction has just committed.
  const stored = await tx.query<FirstUse>(
    'SELECT quantity, response FROM idempotency_keys WHERE key = $1',
    [key],
  );
  return stored.rows[0]!;
}

/** Stores the answer given to the request that claimed `key`, in that request's transaction. */
export async function storeIdempotentResponse(
  tx: pg.ClientBase,
  key: string,
  response: PlaceOrdersResponse,
): Promise<void> {
  await tx.query('UPDATE idempotency_keys SET response = $2 WHERE key = $1', [key, JSON.stringify(response)]);
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
