import { setTimeout as sleep } from 'node:timers/promises';

/**
 * Resolves once every URL answers 2xx, checking every `intervalMs`; rejects after `timeoutMs`
 * naming the URLs that never became ready. Used only while a stack starts.
 */
export async function waitUntilReady(
  urls: string[],
  { timeoutMs = 60_000, intervalMs = 250 }: { timeoutMs?: number; intervalMs?: number } = {},
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let waiting = urls;
  while (waiting.length > 0) {
    const answers = await Promise.all(
      waiting.map((url) =>
        fetch(url, { signal: AbortSignal.timeout(2_000) })
          .then((response) => response.ok)
          .catch(() => false),
      ),
    );
    waiting = waiting.filter((_, index) => !answers[index]);
    if (waiting.length === 0) return;
    if (Date.now() > deadline) throw new Error(`not ready after ${timeoutMs} ms: ${waiting.join(', ')}`);
    await sleep(intervalMs);
  }
}
