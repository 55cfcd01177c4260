import { setTimeout as delay } from 'node:timers/promises';

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
}

/** How long to wait before retry number `attempt` (1-based) after an outage: exponential, capped, jittered. */
export function backoffDelay(attempt: number, { baseMs, maxMs }: BackoffOptions): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt - 1, 30));
  // Half of the delay is random so many replicas do not retry against a recovering server in lockstep.
  return Math.round(ceiling / 2 + (Math.random() * ceiling) / 2);
}

/** Waits `ms`, or less if `signal` aborts (a stopping loop must not sit out its backoff). */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  await delay(ms, undefined, { signal }).catch(() => undefined);
}

/**
 * Backoff for Redis and PostgreSQL outages: from 100 ms up to 2 s between attempts (1–2 s with the
 * jitter), so whatever waits on it resumes within about 2 s of the server answering again, however
 * long the outage; an attempt a second or two is nothing for a server that is back.
 */
export const OUTAGE_BACKOFF: BackoffOptions = { baseMs: 100, maxMs: 2_000 };
