import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { Loop } from '@free-lunch/service-kit';
import type { OrdersConfig } from '../config.js';
import { forgetExpiredIdempotencyKeys } from '../use-cases/forget-idempotency-keys.js';

/** Forgets the Idempotency-Keys older than IDEMPOTENCY_KEY_TTL_MS, now and then (never at start). */
export function idempotencyKeyJanitor(
  deps: { pool: pg.Pool; log: FastifyBaseLogger },
  config: Pick<OrdersConfig, 'IDEMPOTENCY_KEY_TTL_MS'>,
): Loop {
  return new Loop({
    name: 'forget expired idempotency keys',
    // Often enough that the table holds little more than a day of keys; rare enough to cost nothing.
    everyMs: Math.min(config.IDEMPOTENCY_KEY_TTL_MS, 10 * 60_000),
    runAtStart: false,
    run: async () => void (await forgetExpiredIdempotencyKeys(deps.pool, { keepForMs: config.IDEMPOTENCY_KEY_TTL_MS })),
    log: deps.log,
  });
}
