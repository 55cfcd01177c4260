import { enqueueOutbox } from '@free-lunch/streams';
import type { FastifyBaseLogger } from 'fastify';
import { dishDeliveredMessages } from '../domain/announcements.js';
import { OUTBOX_TABLE } from '../data/schema.js';
import { deliverReadyTickets, timeUntilNextDishIsReady } from '../data/tickets.js';
import { inTransaction } from '@free-lunch/service-kit';
import type { Kitchen, Wakeable } from './kitchen.js';

/** Most dishes taken off the stove in one transaction. */
export const DELIVERY_BATCH_SIZE = 500;

export interface DeliveryRound {
  delivered: number;
  /** Milliseconds until the next dish is ready (0: one already is), null when nothing is cooking. */
  nextReadyInMs: number | null;
}

/**
 * Dishes whose cooking time is over are delivered: ticket and `delivered` event in one
 * transaction. Kitchens sharing the database each take different dishes (SKIP LOCKED), and a
 * dish is delivered once however many kitchens look.
 */
export async function deliverReadyDishes(kitchen: Kitchen, batchSize = DELIVERY_BATCH_SIZE): Promise<DeliveryRound> {
  const delivered = await inTransaction(kitchen.pool, async (tx) => {
    const dishes = await deliverReadyTickets(tx, batchSize);
    await enqueueOutbox(tx, OUTBOX_TABLE, dishes.flatMap(dishDeliveredMessages));
    return dishes;
  });
  if (delivered.length > 0) {
    kitchen.relay.wake();
    kitchen.metrics.dishesDelivered(delivered.length);
  }
  return { delivered: delivered.length, nextReadyInMs: await timeUntilNextDishIsReady(kitchen.pool) };
}

export interface CookLoopOptions {
  /** One round of delivering; normally `() => deliverReadyDishes(kitchen)`. */
  deliver(): Promise<DeliveryRound>;
  log: FastifyBaseLogger;
  /** Longest the loop sleeps, whatever it knows: catches dishes another kitchen put on the stove. */
  sweepIntervalMs?: number;
  /** Full rounds follow each other at once; this is how full a round must be to count as full. */
  batchSize?: number;
}

/**
 * Delivers dishes when they are ready, without polling per dish. After every round it sleeps
 * until the soonest dish on the stove is ready, but never longer than the sweep interval (1 s),
 * which picks up dishes other kitchens started and any the timer missed. `wake()` (after dishes
 * go on the stove) runs a round now; wake-ups during a round coalesce into one more round. All
 * state is in PostgreSQL, so a restarted kitchen simply carries on with what is on the stove.
 */
export class CookLoop implements Wakeable {
  private readonly sweepIntervalMs: number;
  private readonly batchSize: number;
  private timer: NodeJS.Timeout | undefined;
  private round: Promise<void> | undefined;
  private wokenDuringRound = false;
  private running = false;

  constructor(private readonly options: CookLoopOptions) {
    this.sweepIntervalMs = options.sweepIntervalMs ?? 1000;
    this.batchSize = options.batchSize ?? DELIVERY_BATCH_SIZE;
  }

  /** Starts with a round at once: dishes that became ready while no kitchen ran leave now. */
  start(): void {
    this.running = true;
    this.wake();
  }

  wake(): void {
    if (!this.running) return;
    if (this.round) {
      this.wokenDuringRound = true;
      return;
    }
    clearTimeout(this.timer);
    this.round = this.cook().finally(() => {
      this.round = undefined;
      // A wake-up that landed after the round's last check must not wait for the next sweep.
      if (this.wokenDuringRound) {
        this.wokenDuringRound = false;
        this.wake();
      }
    });
  }

  /** Stops scheduling and waits for the round in progress, so its transaction ends before the pool. */
  async stop(): Promise<void> {
    this.running = false;
    clearTimeout(this.timer);
    await this.round;
  }

  private async cook(): Promise<void> {
    let sleepMs = this.sweepIntervalMs;
    try {
      let round: DeliveryRound;
      do {
        this.wokenDuringRound = false;
        round = await this.options.deliver();
      } while (this.running && (this.wokenDuringRound || round.delivered >= this.batchSize));
      if (round.nextReadyInMs !== null) sleepMs = Math.min(round.nextReadyInMs, this.sweepIntervalMs);
    } catch (error) {
      // The database may be restarting: try again at the next sweep rather than spin.
      this.options.log.error({ err: error }, 'cook loop round failed; retrying at the next sweep');
    }
    if (!this.running) return;
    // A dish ready "now" but skipped (another kitchen holds it) must not make the loop spin.
    this.timer = setTimeout(() => this.wake(), Math.max(sleepMs, MIN_SLEEP_MS));
    this.timer.unref();
  }
}

/** Shortest sleep between rounds that found nothing to deliver. */
const MIN_SLEEP_MS = 10;
