/** How long the warehouse waits before asking the market again for an ingredient it could not get. */
export interface BackoffSettings {
  /** Wait after the first empty-handed round (MARKET_RETRY_BASE_MS). */
  baseMs: number;
  /** Longest wait, however often the market came up empty (MARKET_RETRY_MAX_MS). */
  maxMs: number;
}

/** Beyond this many doublings every wait is capped anyway; stops 2^n from overflowing. */
const MAX_DOUBLINGS = 30;

/**
 * Wait after `failures` empty-handed rounds in a row (1 = the first): exponential, capped, with
 * jitter so that replicas and ingredients that failed together do not all come back together.
 * The ceiling doubles per failure; the wait is drawn from its upper half and always lies within
 * `baseMs..maxMs`.
 */
export function backoffDelay(failures: number, settings: BackoffSettings, random: () => number = Math.random): number {
  const { baseMs, maxMs } = settings;
  const doublings = Math.min(Math.max(failures, 1) - 1, MAX_DOUBLINGS);
  const ceiling = Math.min(maxMs, baseMs * 2 ** doublings);
  const floor = Math.min(ceiling, Math.max(baseMs, ceiling / 2));
  return Math.round(floor + random() * (ceiling - floor));
}
