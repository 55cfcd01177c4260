import type pg from 'pg';
import type { Ingredient } from '@free-lunch/contracts';
import { loadShortfall } from '../data/requests.js';
import type { BackoffSettings } from '../domain/backoff.js';
import { backoffAfterRound, planPurchases, RoundCalls, type PurchaseBackoff } from '../domain/purchase-plan.js';
import type { MarketCall } from '../market/market-client.js';
import type { MarketJournal, RoundCall } from './market-journal.js';

export interface MarketRoundDeps {
  pool: pg.Pool;
  market: { buy(ingredient: Ingredient): Promise<MarketCall> };
  /** Most market calls in flight at once (MARKET_CONCURRENCY). */
  concurrency: number;
  backoff: BackoffSettings;
  /** Where each sale is written as it arrives. */
  journal: Pick<MarketJournal, 'write' | 'writeNow'>;
}

/**
 * A round plans up to this many calls per unit of concurrency (4,096 with MARKET_CONCURRENCY at its
 * default of 64); the calls still go out at most `concurrency` at once. A round is recorded in one
 * transaction, with one batch of dispatches downstream, while the next round's calls go out: rounds
 * must be long enough that their calls outlast the recording of the round before, or recording paces
 * the purchaser. With a quick market and a long queue, {@link ROUND_WINDOW_MS} is what ends a round.
 * The price is the last rounds of a burst buying a little ahead (the extra units stay in stock for the
 * next orders), since a short ingredient may get as many calls as units short.
 */
const CALLS_PER_ROUND_PER_SLOT = 64;
/**
 * No call of a round starts later than this after the round began: with a slow market the round
 * ends early (what was planned but not started is simply not made), so what it bought reaches
 * stock, and the waiting dishes, several times a second.
 */
const ROUND_WINDOW_MS = 100;

/**
 * A round's market calls, made. What they bought is in the journal (see {@link MarketJournal}), and
 * reaches stock and the books when the round is recorded (`recordRounds`).
 */
export interface PurchaseRound {
  /** Backoff to carry into the next round. */
  backoff: PurchaseBackoff;
  /** Every call made, in the order answered (empty: nothing was short, or everything short is backing off). */
  attempts: RoundCall[];
  /** When nothing could be asked for now: the earliest moment something may be, if anything is short. */
  nextRetryAt: number | null;
  /**
   * The calls bought at least what was short (as read at the round's start, less `unrecordedUnits`)
   * of every ingredient: once the round is recorded nothing is short, unless requests came since.
   */
  covered: boolean;
}

/**
 * The market half of a purchase round: work out what the waiting requests lack, decide how many
 * market calls each short ingredient gets, and make them (never more than `concurrency` in flight,
 * taking the ingredients in turn). `unrecordedUnits` is what earlier rounds bought that is not in
 * the books yet: it is not short any more. Recording is `recordRounds`, so a round's calls can go
 * out while the round before it commits. A zero or a fault only makes that ingredient wait longer.
 */
export async function buyShortfalls(
  deps: MarketRoundDeps,
  backoff: PurchaseBackoff,
  unrecordedUnits: ReadonlyMap<Ingredient, number> = new Map(),
): Promise<PurchaseRound> {
  const shortfall = await loadShortfall(deps.pool);
  for (const [ingredient, units] of unrecordedUnits) {
    const short = (shortfall.get(ingredient) ?? 0) - units;
    if (short > 0) shortfall.set(ingredient, short);
    else shortfall.delete(ingredient);
  }
  const budget = deps.concurrency * CALLS_PER_ROUND_PER_SLOT;
  const plan = planPurchases(shortfall, backoff, budget, Date.now());
  if (plan.calls.length === 0) return { backoff, attempts: [], nextRetryAt: plan.nextRetryAt, covered: shortfall.size === 0 };

  const attempts = await callMarket(deps, new RoundCalls(plan.calls, shortfall, budget), Date.now() + ROUND_WINDOW_MS);
  const bought = unitsSold(attempts);
  const covered = [...shortfall].every(([ingredient, short]) => (bought.get(ingredient) ?? 0) >= short);
  return { backoff: backoffAfterRound(backoff, attempts, Date.now(), deps.backoff), attempts, nextRetryAt: null, covered };
}

/** Units per ingredient that these market calls sold. */
export function unitsSold(attempts: readonly MarketCall[]): Map<Ingredient, number> {
  const bought = new Map<Ingredient, number>();
  for (const { ingredient, quantitySold } of attempts) {
    if (quantitySold > 0) bought.set(ingredient, (bought.get(ingredient) ?? 0) + quantitySold);
  }
  return bought;
}

/**
 * Makes the round's calls ({@link RoundCalls}), `concurrency` at a time: each of that many workers
 * takes the next call as soon as its last one is answered, until none is left or the round's window
 * closes; a worker that finds none queued while others are out waits for their answers, which may
 * queue more. A worker whose call sold waits for the sale to be journaled before its next call, so
 * at any moment at most `concurrency` calls are in flight or answered by the market but not yet
 * durable here: all that a kill of this process can take out of the books. An answer counts for the
 * round as soon as it arrives, so the calls it leaves needed go out on other workers meanwhile. (With an instant market this wait is
 * longer than the call: docs/design.md, Purchasing, says what it costs a burst.)
 * Every call started is awaited, so each one the market answered is recorded.
 */
async function callMarket(
  deps: Pick<MarketRoundDeps, 'market' | 'concurrency' | 'journal'>,
  calls: RoundCalls,
  startNoLaterThan: number,
): Promise<RoundCall[]> {
  const attempts: RoundCall[] = [];
  let inFlight = 0;
  let answered = () => {};
  let anAnswer = new Promise<void>((resolve) => (answered = resolve));
  const worker = async () => {
    for (;;) {
      if (attempts.length + inFlight > 0 && Date.now() >= startNoLaterThan) return;
      const ingredient = calls.next();
      if (ingredient === undefined) {
        if (inFlight === 0) return;
        await anAnswer;
        continue;
      }
      inFlight += 1;
      const call: RoundCall = await deps.market.buy(ingredient);
      attempts.push(call);
      inFlight -= 1;
      // The answer counts at once: the calls it leaves needed go out on the other slots while this
      // one waits for its sale to be journaled.
      calls.answered(ingredient, call.quantitySold);
      answered();
      anAnswer = new Promise<void>((resolve) => (answered = resolve));
      const written = call.quantitySold > 0 ? deps.journal.write(call) : undefined;
      // The round's last answer: no sale is coming to share the write with.
      if (inFlight === 0 && calls.queued === 0) deps.journal.writeNow();
      if (written) await written;
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency, calls.queued) }, worker));
  return attempts;
}
