import type { FastifyBaseLogger } from 'fastify';
import { Wakeup } from '@free-lunch/service-kit';
import type { PublishCommitted } from '@free-lunch/streams';
import type { PurchaseBackoff } from '../domain/purchase-plan.js';
import type { InventoryMetrics } from '../metrics.js';
import { MarketJournal } from './market-journal.js';
import { buyShortfalls, type MarketRoundDeps, type PurchaseRound } from './market-round.js';
import { PurchaserLeadership } from './purchaser-leadership.js';
import { callsOfRounds, recordRounds, RoundIdPruner, unitsOfRounds, type RoundToRecord } from './record-round.js';
import { RecordingRetries } from './recording-retries.js';

export interface PurchaseDeps extends Omit<MarketRoundDeps, 'journal'> {
  metrics: InventoryMetrics;
}

/** How long to look again when nothing is short, if no new request is announced sooner. */
const IDLE_RECHECK_MS = 1_000;
/** Pause after a round that failed (PostgreSQL unreachable, say) before the next. */
const FAILED_ROUND_PAUSE_MS = 1_000;
/**
 * While leading, how often a recording also replays the sales other purchasers journaled and never
 * recorded (besides once when leadership begins): a purchaser that lost its session, kept buying for
 * a moment next to this one and then died leaves its last sales to this replay.
 */
const REPLAY_EVERY_MS = 10_000;

/**
 * Buys shortfalls in rounds, on exactly one replica at a time ({@link PurchaserLeadership}): each
 * round's market calls ({@link buyShortfalls}) go out while the round before is recorded
 * ({@link recordRounds}, one at a time and in order, retried by {@link RecordingRetries}). Each
 * sale is journaled as it arrives ({@link MarketJournal}); a purchaser that starts leading first
 * replays into the books the sales a dead one journaled and never recorded.
 */
export class Purchaser {
  readonly #wakeup = new Wakeup();
  readonly #leadership: PurchaserLeadership;
  readonly #recordings: RecordingRetries;
  readonly #journal: MarketJournal;
  readonly #pruner: RoundIdPruner;
  #backoff: PurchaseBackoff = new Map();
  /** The next recording also replays other purchasers' unrecorded sales; when one last did. */
  #replayDue = false;
  #replayedAt = 0;

  constructor(
    private readonly deps: PurchaseDeps & {
      /** Where the dedicated leadership connection goes: the service's database. */
      connectionString: string;
      logger: FastifyBaseLogger;
      /** Publishes outbox rows now (the relay): a round was recorded, with the dispatches its purchases allowed. */
      publishNow: PublishCommitted;
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
    this.#journal = new MarketJournal(deps.pool, deps.logger);
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
          // Sales a purchaser journaled and died before recording reach the books before this one
          // plans what is short (with the rounds this replica kept, if any). If that fails, the
          // replay stays due and goes with the next recording.
          this.#replayDue = true;
          await this.#recordings.settle();
          this.#recordings.start([]);
          await this.#recordings.settle();
          while (leading()) await this.#wakeup.sleep(await this.#round());
        },
        // What the market sold must reach the books before another replica may start buying.
        leave: async () => {
          this.#replayDue = false;
          await this.#recordings.recordBeforeLeaving();
        },
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
    const heardBefore = this.#leadership.announcementsHeard();
    let round: PurchaseRound;
    try {
      round = await buyShortfalls({ ...this.deps, journal: this.#journal }, this.#backoff, this.#recordings.unrecordedUnits());
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
    if (Date.now() - this.#replayedAt >= REPLAY_EVERY_MS) this.#replayDue = true;
    this.#recordings.start(round.attempts);
    if (!previousRecorded) return FAILED_ROUND_PAUSE_MS;
    // Bought all that was short and no request announced since the shortfall was read: once this
    // recording commits nothing is short (its dispatches take as much from the needs as from the
    // stock), so wait for an announcement rather than read the shortfall again, twice, to find that.
    const quiet = round.covered && heardBefore !== null && this.#leadership.announcementsHeard() === heardBefore;
    return quiet ? IDLE_RECHECK_MS : 0;
  }

  /**
   * Records `rounds` in one transaction, then the metrics and wake-ups. Their sales must be in the
   * journal first (the recording takes them from there). Throws if either fails.
   */
  async #recordAndAnnounce(rounds: RoundToRecord[]): Promise<void> {
    await this.#journal.flush();
    const heardBefore = this.#leadership.announcementsHeard();
    const replayOthers = this.#replayDue;
    const recorded = await recordRounds(this.deps.pool, { purchaser: this.#journal.purchaser, replayOthers }, rounds);
    if (replayOthers) {
      this.#replayDue = false;
      this.#replayedAt = Date.now();
    }
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
      if ((unitsOfRounds(rounds).size > 0 || recorded.bought.size > 0) && mayHaveMissedRequests) this.deps.onBought();
      const { metrics } = this.deps;
      for (const attempt of recorded.attempts) metrics.marketCalls(attempt.outcome, 1);
      for (const [ingredient, units] of recorded.bought) metrics.unitsBought(ingredient, units);
      for (const [ingredient, units] of recorded.dispatched) metrics.unitsDispatched(ingredient, units);
      this.deps.publishNow(recorded.outbox);
    } catch (error) {
      this.deps.logger.error({ err: error }, 'a purchase round was recorded, but announcing it failed');
    }
  }
}
