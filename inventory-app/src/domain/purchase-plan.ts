import type { Ingredient, PurchaseOutcome } from '@free-lunch/contracts';
import { backoffDelay, type BackoffSettings } from './backoff.js';

/** Where the warehouse stands with the market for one ingredient. */
export interface IngredientBackoff {
  /** Rounds in a row that brought none of it (zero answers or faults). */
  failures: number;
  /** Epoch ms before which the market is not asked for it again. */
  retryAt: number;
  /** Epoch ms of the last round that asked for it. */
  lastAttemptAt: number;
}

/** Backoff per ingredient; an ingredient never asked for is absent. */
export type PurchaseBackoff = ReadonlyMap<Ingredient, IngredientBackoff>;

export interface PurchasePlan {
  /** Market calls to make this round, per ingredient; the total never exceeds the round's budget. */
  calls: Array<{ ingredient: Ingredient; calls: number }>;
  /** Earliest moment a backing-off ingredient with a shortfall may be asked for again, if any. */
  nextRetryAt: number | null;
}

/**
 * Decides how many market calls to make this round for each ingredient that is short.
 *
 * Every short ingredient gets one call before any gets a second, the one asked for least recently
 * first, so when the budget (the calls a round may make) is smaller than the number of short
 * ingredients none is left out twice in a row. The rest of the budget follows the shortfalls: each
 * further call goes to the ingredient with the most units missing per call it already has, so 300
 * missing tomatoes get more calls than 10 missing lemons. An ingredient gets at most as many calls
 * as units it is short (a sale is at least one unit), and none while it is backing off.
 */
export function planPurchases(
  shortfall: ReadonlyMap<Ingredient, number>,
  backoff: PurchaseBackoff,
  budget: number,
  now: number,
): PurchasePlan {
  let nextRetryAt: number | null = null;
  const eligible: Array<{ ingredient: Ingredient; short: number; lastAttemptAt: number; calls: number }> = [];
  for (const [ingredient, short] of shortfall) {
    if (short <= 0) continue;
    const state = backoff.get(ingredient);
    if (state && state.retryAt > now) {
      nextRetryAt = nextRetryAt === null ? state.retryAt : Math.min(nextRetryAt, state.retryAt);
      continue;
    }
    eligible.push({ ingredient, short, lastAttemptAt: state?.lastAttemptAt ?? Number.NEGATIVE_INFINITY, calls: 0 });
  }
  eligible.sort(
    (a, b) => a.lastAttemptAt - b.lastAttemptAt || b.short - a.short || a.ingredient.localeCompare(b.ingredient),
  );

  let callsLeft = Math.max(0, Math.floor(budget));
  for (const candidate of eligible) {
    if (callsLeft === 0) break;
    candidate.calls = 1;
    callsLeft -= 1;
  }
  while (callsLeft > 0) {
    let neediest: (typeof eligible)[number] | undefined;
    for (const candidate of eligible) {
      if (candidate.calls === 0 || candidate.calls >= candidate.short) continue;
      if (!neediest || candidate.short / (candidate.calls + 1) > neediest.short / (neediest.calls + 1)) {
        neediest = candidate;
      }
    }
    if (!neediest) break;
    neediest.calls += 1;
    callsLeft -= 1;
  }
  return {
    calls: eligible.filter((c) => c.calls > 0).map(({ ingredient, calls }) => ({ ingredient, calls })),
    nextRetryAt,
  };
}

/** The plan's calls, the ingredients taking turns; {@link RoundCalls} adds calls as answers come in. */
function callSequence(calls: PurchasePlan['calls']): Ingredient[] {
  const sequence: Ingredient[] = [];
  const most = Math.max(0, ...calls.map((c) => c.calls));
  for (let turn = 0; turn < most; turn += 1) {
    for (const { ingredient, calls: count } of calls) if (turn < count) sequence.push(ingredient);
  }
  return sequence;
}

/**
 * Empty answers in a row after which an ingredient gets no more calls this round and backs off
 * instead. An empty answer ("none today") is the market's ordinary mood, so a few are retried at
 * once rather than after a backoff; a market that keeps saying none is left alone.
 */
export const EMPTY_ANSWERS_PER_ROUND = 4;

/**
 * The calls of one round, in the order to make them. First the plan's, the ingredients taking turns
 * (one call each, then a second each, …), so a round cut short by a slow market has still asked for
 * every short ingredient. Then, as answers come in, one more call for an ingredient that the
 * answers so far (and the calls still out, each counted as the one unit a sale brings at least)
 * leave short, until it has come up empty {@link EMPTY_ANSWERS_PER_ROUND} times in a row or the
 * round's budget is spent: so a round ends with the shortfall covered rather than leaving the rest
 * of it to another round, its recording and its dispatches.
 */
export class RoundCalls {
  readonly #queue: Ingredient[];
  readonly #short = new Map<Ingredient, number>();
  /** Per ingredient: units sold, calls queued or in flight, empty answers in a row. */
  readonly #state = new Map<Ingredient, { sold: number; outstanding: number; emptyInARow: number }>();
  #next = 0;
  #budgetLeft: number;

  constructor(calls: PurchasePlan['calls'], shortfall: ReadonlyMap<Ingredient, number>, budget: number) {
    this.#queue = callSequence(calls);
    for (const { ingredient, calls: count } of calls) {
      this.#short.set(ingredient, shortfall.get(ingredient) ?? 0);
      this.#state.set(ingredient, { sold: 0, outstanding: count, emptyInARow: 0 });
    }
    this.#budgetLeft = Math.max(0, Math.floor(budget) - this.#queue.length);
  }

  /** The next call to make, or undefined when none is queued now (more may follow an answer still out). */
  next(): Ingredient | undefined {
    return this.#next < this.#queue.length ? this.#queue[this.#next++] : undefined;
  }

  /** Calls queued but not handed out yet. */
  get queued(): number {
    return this.#queue.length - this.#next;
  }

  /** An answer for `ingredient` came in: `quantitySold` units (0 for none or a fault). */
  answered(ingredient: Ingredient, quantitySold: number): void {
    const state = this.#state.get(ingredient);
    if (!state) return;
    state.outstanding -= 1;
    state.sold += quantitySold;
    state.emptyInARow = quantitySold > 0 ? 0 : state.emptyInARow + 1;
    const stillShort = (this.#short.get(ingredient) ?? 0) - state.sold - state.outstanding > 0;
    if (stillShort && state.emptyInARow < EMPTY_ANSWERS_PER_ROUND && this.#budgetLeft > 0) {
      this.#queue.push(ingredient);
      state.outstanding += 1;
      this.#budgetLeft -= 1;
    }
  }
}

/**
 * Backoff after a round: an ingredient that sold at least once is in good standing again; one whose
 * every call came back empty (none or fault) waits longer each time. Ingredients not asked for this
 * round keep their state.
 */
export function backoffAfterRound(
  backoff: PurchaseBackoff,
  attempts: ReadonlyArray<{ ingredient: Ingredient; outcome: PurchaseOutcome }>,
  now: number,
  settings: BackoffSettings,
  random: () => number = Math.random,
): Map<Ingredient, IngredientBackoff> {
  const sold = new Map<Ingredient, boolean>();
  for (const { ingredient, outcome } of attempts) {
    sold.set(ingredient, (sold.get(ingredient) ?? false) || outcome === 'sold');
  }
  const next = new Map(backoff);
  for (const [ingredient, anySold] of sold) {
    const failures = anySold ? 0 : (backoff.get(ingredient)?.failures ?? 0) + 1;
    const retryAt = failures === 0 ? now : now + backoffDelay(failures, settings, random);
    next.set(ingredient, { failures, retryAt, lastAttemptAt: now });
  }
  return next;
}
