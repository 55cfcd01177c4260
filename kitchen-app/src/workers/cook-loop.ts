import { Loop, type LoopLogger } from '@free-lunch/service-kit';
import { DELIVERY_BATCH_SIZE, type DeliveryRound } from '../use-cases/deliver-ready-dishes.js';

export interface CookLoopOptions {
  /** One round of delivering; normally `() => deliverReadyDishes(kitchen)`. */
  deliver: () => Promise<DeliveryRound>;
  log: LoopLogger;
  /** Longest the loop sleeps, whatever it knows: catches dishes another kitchen put on the stove. */
  sweepIntervalMs?: number;
  /** Full rounds follow each other at once; this is how full a round must be to count as full. */
  batchSize?: number;
}

/** Shortest sleep between rounds that found nothing to deliver. */
const MIN_SLEEP_MS = 10;

/**
 * Delivers dishes when they are ready, without polling per dish. After every round it sleeps
 * until the soonest dish on the stove is ready, but never longer than the sweep interval (1 s),
 * which picks up dishes other kitchens started and any the timer missed; a full round is followed
 * by another at once. Waking it (after dishes go on the stove) runs a round now; wake-ups during a
 * round make one more round. A failed round (the database may be restarting) is retried at the next
 * sweep. All state is in PostgreSQL, so a restarted kitchen simply carries on with what is on the
 * stove; the first round runs at start, for the dishes that became ready while no kitchen ran.
 */
export function cookLoop({ deliver, log, sweepIntervalMs = 1000, batchSize = DELIVERY_BATCH_SIZE }: CookLoopOptions): Loop {
  return new Loop({
    name: 'cook loop',
    everyMs: sweepIntervalMs,
    log,
    run: async () => {
      const round = await deliver();
      if (round.delivered >= batchSize) return 0;
      const sleepMs = round.nextReadyInMs === null ? sweepIntervalMs : Math.min(round.nextReadyInMs, sweepIntervalMs);
      // A dish ready "now" but skipped (another kitchen holds it) must not make the loop spin.
      return Math.max(sleepMs, MIN_SLEEP_MS);
    },
  });
}
