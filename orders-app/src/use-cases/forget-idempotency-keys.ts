import type pg from 'pg';
import { forgetIdempotencyKeys } from '../data/idempotency-keys.js';

/** Most keys forgotten per statement, so a large backlog never holds one long lock. */
const FORGET_BATCH = 5_000;

/**
 * Forgets every Idempotency-Key first used longer than `keepForMs` ago. A client retrying a request
 * within that window gets its first answer back; after it, the key is free to mean a new request.
 * Without this the table would grow by one row per keyed request forever.
 */
export async function forgetExpiredIdempotencyKeys(pool: pg.Pool, { keepForMs }: { keepForMs: number }): Promise<number> {
  let forgotten = 0;
  for (;;) {
    const batch = await forgetIdempotencyKeys(pool, { olderThanMs: keepForMs, limit: FORGET_BATCH });
    forgotten += batch;
    if (batch < FORGET_BATCH) return forgotten;
  }
}
