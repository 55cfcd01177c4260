import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Ingredient, PurchaseRecord } from '@free-lunch/contracts';
import { enqueueOutbox, type OutboxRows } from '@free-lunch/streams';
import { pruneJournal } from '../data/market-journal.js';
import { pruneRounds, recordPurchaseRounds, type PurchaseAttempt } from '../data/purchases.js';
import { OUTBOX_TABLE } from '../data/schema.js';
import { withStockLocked } from '../data/stock.js';
import { dispatchWhatFits, QUEUE_HEAD } from '../use-cases/allocate.js';
import { purchasesRecorded, stockChanged } from '../use-cases/outbox-messages.js';
import type { RoundCall } from './market-journal.js';
import { unitsSold } from './market-round.js';

/** A round's market calls under the id that makes recording them idempotent. */
export interface RoundToRecord {
  id: string;
  attempts: RoundCall[];
}

/** Whose journal a recording takes its sales from. */
export interface JournalScope {
  /** The recording purchaser's id in the journal: its rounds' sales are taken by their numbers. */
  purchaser: string;
  /** Also replay every other purchaser's sales no one has recorded (one that died mid-round). */
  replayOthers: boolean;
}

/** What one {@link recordRounds} committed. */
export interface RecordedRounds {
  /**
   * The calls recorded now: those of rounds an earlier, lost-answer attempt had not recorded
   * already, less sales another purchaser replayed first, plus the sales replayed now.
   */
  attempts: PurchaseAttempt[];
  bought: Map<Ingredient, number>;
  dispatched: Map<Ingredient, number>;
  /** The dispatch's read of the queue stopped at its window (see `Allocation`). */
  queueCutShort: boolean;
  /** The outbox rows it wrote, to publish once committed. */
  outbox: OutboxRows;
}

/** Units per ingredient that the calls of these rounds sold. */
export function unitsOfRounds(rounds: readonly RoundToRecord[]): Map<Ingredient, number> {
  return unitsSold(rounds.flatMap((round) => round.attempts));
}

/** How many market calls these rounds made. */
export function callsOfRounds(rounds: readonly RoundToRecord[]): number {
  return rounds.reduce((n, round) => n + round.attempts.length, 0);
}

/**
 * Records one or more rounds in ONE transaction: the purchase rows, the units added to stock and
 * their ledger rows, one `purchases.recorded` with every attempt and a stock snapshot, then whatever
 * the waiting requests can now be handed: the stock lock is taken once, and bought units leave for
 * the kitchen at once instead of waiting for an allocation of their own. Rounds recorded before (see
 * {@link recordPurchaseRounds}) are skipped, so a retry after a lost COMMIT answer records nothing
 * twice. Four round trips: begin with the lock and the head of the queue, the purchases, the
 * dispatch, the commit.
 *
 * The rounds' sales come out of the market journal in the same transaction (and, with
 * `replayOthers`, the sales of purchasers that died before recording theirs): a journaled sale is in
 * the books once, whoever records it, since only the transaction that takes its row records it.
 * Zeros and faults, never journaled, come from the rounds as the purchaser kept them.
 */
export async function recordRounds(
  pool: pg.Pool,
  journal: JournalScope,
  rounds: readonly RoundToRecord[],
): Promise<RecordedRounds> {
  // The first page is sized to the stock before the purchase; the plan reads on if it serves them all.
  return withStockLocked(pool, QUEUE_HEAD, async (client, { stock, head }) => {
    const purchases = await recordPurchaseRounds(client, {
      purchaser: journal.purchaser,
      replayOthers: journal.replayOthers,
      rounds: rounds.map((round) => ({ roundId: round.id, calls: round.attempts })),
    });
    const attempts = purchases.map(toAttempt);
    const bought = unitsSold(attempts);
    if (attempts.length === 0) return { attempts, bought, dispatched: new Map<Ingredient, number>(), queueCutShort: false, outbox: [] };
    const events = [purchasesRecorded(purchases)];
    if (bought.size === 0) {
      const outbox = await enqueueOutbox(client, OUTBOX_TABLE, events);
      return { attempts, bought, dispatched: new Map<Ingredient, number>(), queueCutShort: false, outbox };
    }
    const stockAfter = new Map([...stock].map(([ingredient, units]) => [ingredient, units + (bought.get(ingredient) ?? 0)]));
    events.push(stockChanged('purchase', stockAfter, new Date()));
    // The stock row gets what was bought in the dispatch's own statement, with what leaves.
    const dispatch = await dispatchWhatFits(client, stockAfter, head, { units: bought, events });
    return { attempts, bought, dispatched: dispatch.unitsOut, queueCutShort: dispatch.cutShort, outbox: dispatch.outbox };
  });
}

const toAttempt = ({ ingredient, outcome, quantitySold, error, at }: PurchaseRecord): PurchaseAttempt => ({
  ingredient,
  outcome,
  quantitySold,
  error,
  at: new Date(at),
});

/**
 * How long a recorded round's id, and a replayed sale's journal row, is kept to recognise a retry,
 * and how often older ones are pruned.
 */
const ROUND_IDS_KEPT_MS = 24 * 60 * 60_000;
const ROUND_IDS_PRUNED_EVERY_MS = 60 * 60_000;

/**
 * Forgets recorded round ids and replayed journal rows older than {@link ROUND_IDS_KEPT_MS}, at most
 * once an hour per process.
 */
export class RoundIdPruner {
  /** When this process last pruned (0: not yet). */
  #prunedAt = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: FastifyBaseLogger,
  ) {}

  /** Prunes in the background if it is time; a failure waits for the next time. */
  pruneIfDue(): void {
    if (Date.now() - this.#prunedAt < ROUND_IDS_PRUNED_EVERY_MS) return;
    this.#prunedAt = Date.now();
    const before = new Date(Date.now() - ROUND_IDS_KEPT_MS);
    Promise.all([pruneRounds(this.pool, before), pruneJournal(this.pool, before)]).then(
      ([rounds, sales]) => {
        if (rounds + sales > 0) this.logger.debug({ rounds, sales }, 'pruned old purchase round ids and replayed sales');
      },
      (error: unknown) => this.logger.warn({ err: error }, 'pruning old purchase round ids failed'),
    );
  }
}
