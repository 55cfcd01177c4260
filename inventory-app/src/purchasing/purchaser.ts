import type { FastifyBaseLogger } from 'fastify';
import { Wakeup } from '@free-lunch/service-kit';
import type { PurchaseBackoff } from '../domain/purchase-plan.js';
import type { InventoryMetrics } from '../metrics.js';
import { buyShortfalls, type MarketRoundDeps, type PurchaseRound } from './market-round.js';
import { PurchaserLeadership } from './purchaser-leadership.js';
import { callsOfRounds, recordRounds, RoundIdPruner, unitsOfRounds, type RoundToRecord } from './record-round.js';
import { RecordingRetries } from './recording-retries.js';

export interface PurchaseDeps extends MarketRoundDeps {
  metrics: InventoryMetrics;
}

/** How long to look again when nothing is short, if no new request is announced sooner. */
const IDLE_RECHECK_MS = 1_000;
/** Pause after a round that failed (PostgreSQL unreachable, say) before the next. */
const FAILED_ROUND_PAUSE_MS = 1_000;

/**
 * Buys shortfalls in rounds, on exactly one replica at a time ({@link PurchaserLeadership}): each
 * round's market calls ({@link buyShortfalls}) go out while the round before is recorded
 * ({@link recordRounds}, one at a time and in order, retried by {@link RecordingRetries}).
 */
export class Purchaser {
  readonly #wakeup = new Wakeup();
  readonly #leadership: PurchaserLeadership;
  readonly #recordings: RecordingRetries;
  readonly #pruner: RoundIdPruner;
  #backoff: PurchaseBackoff = new Map();

  constructor(
    private readonly deps: PurchaseDeps & {
      /** Where the dedicated leadership connection goes: the service's database. */
      connectionString: string;
      logger: FastifyBaseLogger;
      /** Publishes the outbox now (wakes the relay): a round was recorded, with the dispatches its purchases allowed. */
      publishNow: () => void;
      /**
       * A recording bought stock, and some requests may not have had a look at it: allocate again.
       * Needed, not a courtesy: an allocation that read the stock before the commit skipped them
       * without locking (see `allocateStock`); docs/design.md (Purchasing and allocation) says when.
       */
      onBought: () => void;
      /**
       * Requests are waiting that no allocation may have seen: a replica announced new ones, or this
       * one has just become the purchaser (requests announced meanwhile reached nobody). Allocating
       * for new requests is the purchaser's, so only one replica's allocator contends with its
       * recordings for the stock lock; every replica still sweeps.
       */
      onNewRequests: () => void;
    },
  ) {
    this.#recordings = new RecordingRetries({ record: (rounds) => this.#recordAndAnnounce(rounds), logger: deps.logger });
    this.#pruner = new RoundIdPruner(deps.pool, deps.logger);
    this.#leadership = new PurchaserLeadership({
      connectionString: deps.connectionString,
      logger: deps.logger,
      wakeup: this.#wakeup,
      onNewRequests: () => deps.onNewRequests(),
      phases: {
        // Rounds bought while this replica led and not recorded then are still ours to record; a
        // recording needs no leadership (it is idempotent, and the stock lock orders it).
        standBy: async () => {
          if (this.#recordings.hasKept) await this.#recordings.recordKept();
        },
        lead: async (leading) => {
          while (leading()) await this.#wakeup.sleep(await this.#round());
        },
        // What the market sold must reach the books before another replica may start buying.
        leave: () => this.#recordings.recordBeforeLeaving(),
      },
    });
  }

  start(): void {
    this.#leadership.start();
  }

  /** Lets the round in progress finish and be recorded, then gives up leadership. */
  async stop(): Promise<void> {
    await this.#leadership.stop();
  }

  /**
   * Plans and makes one round's market calls, then starts recording them (with any kept round)
   * without waiting for the commit: the next round's calls overlap it. Returns how long to wait
   * before the next round (0: go on at once).
   */
  async #round(): Promise<number> {
    let round: PurchaseRound;
    try {
      round = await buyShortfalls(this.deps, this.#backoff, this.#recordings.unrecordedUnits());
    } catch (error) {
      this.deps.logger.error({ err: error }, 'purchase round failed; the requests keep waiting');
      await this.#recordings.settle();
      return FAILED_ROUND_PAUSE_MS;
    }
    this.#backoff = round.backoff;
    const wasRecording = this.#recordings.isRecording;
    const previousRecorded = await this.#recordings.settle();
    if (round.attempts.length === 0 && !this.#recordings.hasKept) {
      // A recording that was still committing may have dispatched, or changed what is short: plan
      // again at once.
      if (wasRecording) return 0;
      return round.nextRetryAt === null ? IDLE_RECHECK_MS : Math.max(0, round.nextRetryAt - Date.now());
    }
    this.#recordings.start(round.attempts);
    return previousRecorded ? 0 : FAILED_ROUND_PAUSE_MS;
  }

  /** Records `rounds` in one transaction, then the metrics and wake-ups. Throws if the transaction fails. */
  async #recordAndAnnounce(rounds: RoundToRecord[]): Promise<void> {
    const heardBefore = this.#leadership.announcementsHeard();
    const recorded = await recordRounds(this.deps.pool, rounds);
    this.#pruner.pruneIfDue();
    try {
      // The recording served, under the stock lock, the queue it read; requests announced after that
      // read and heard before now, or possibly unheard, may have been skipped by an allocation that previewed
      // before our commit, so allocate again for them. Also when the read stopped at the queue window,
      // or an earlier attempt whose answer was lost recorded some of these rounds (and dispatched
      // without a wake-up after). Why this suffices: docs/design.md (Purchasing and allocation).
      const mayHaveMissedRequests =
        heardBefore === null ||
        this.#leadership.announcementsHeard() !== heardBefore ||
        recorded.queueCutShort ||
        recorded.attempts.length < callsOfRounds(rounds);
      if (unitsOfRounds(rounds).size > 0 && mayHaveMissedRequests) this.deps.onBought();
      const { metrics } = this.deps;
      for (const attempt of recorded.attempts) metrics.marketCalls(attempt.outcome, 1);
      for (const [ingredient, units] of recorded.bought) metrics.unitsBought(ingredient, units);
      for (const [ingredient, units] of recorded.dispatched) metrics.unitsDispatched(ingredient, units);
      this.deps.publishNow();
    } catch (error) {
      this.deps.logger.error({ err: error }, 'a purchase round was recorded, but announcing it failed');
    }
  }
}
