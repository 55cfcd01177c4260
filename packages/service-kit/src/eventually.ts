// The timers as they are when tests load this module, before any test fakes them: a wait must pass
// in real time, and must not move fake clocks a test is holding still.
const realSetTimeout = globalThis.setTimeout;
const realNow = Date.now;

export interface EventuallyOptions {
  /** How long to keep trying; default 10 s. */
  timeoutMs?: number;
  /** Pause between tries; default 20 ms. */
  intervalMs?: number;
}

/**
 * The one way tests wait for what a service does in the background (a consumer, a relay, a loop, a
 * socket). Runs `check` until it passes and answers what it returned. A check fails by throwing (an
 * `expect` that does not hold yet) or by answering `false`; answering anything else, nothing
 * included, passes. After `timeoutMs` the wait fails with an error naming `what` and giving the last
 * failure (the `expect` diff, say), which is also its `cause`.
 *
 * It runs on real timers and never advances fake ones (unlike `vi.waitFor`), so it also works in a
 * test that holds a service's loops still with `vi.useFakeTimers()`.
 */
export async function eventually<T>(
  what: string,
  check: () => T | Promise<T>,
  { timeoutMs = 10_000, intervalMs = 20 }: EventuallyOptions = {},
): Promise<Exclude<Awaited<T>, false>> {
  const deadline = realNow() + timeoutMs;
  let lastFailure: unknown;
  for (let tries = 1; ; tries += 1) {
    try {
      const value = await check();
      if (value !== false) return value as Exclude<Awaited<T>, false>;
      lastFailure = new Error('the check answered false');
    } catch (error) {
      lastFailure = error;
    }
    if (realNow() >= deadline) {
      const last = lastFailure instanceof Error ? lastFailure.message : String(lastFailure);
      throw new Error(`timed out after ${timeoutMs} ms (${tries} tries) waiting for ${what}; last failure: ${last}`, {
        cause: lastFailure,
      });
    }
    await new Promise((resolve) => realSetTimeout(resolve, intervalMs));
  }
}
