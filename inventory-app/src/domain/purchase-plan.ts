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

/**
 * The round's calls in the order to make them: the ingredients take turns (one call each, then a
 * second each, …), so a round cut short by a slow market has still asked for every short
 * ingredient rather than for the most missing one only.
 */
export function callSequence(calls: PurchasePlan['calls']): Ingredient[] {
  const sequence: Ingredient[] = [];
  const most = Math.max(0, ...calls.map((c) => c.calls));
  for (let turn = 0; turn < most; turn += 1) {
    for (const { ingredient, calls: count } of calls) if (turn < count) sequence.push(ingredient);
  }
  return sequence;
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
