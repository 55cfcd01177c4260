import { describe, expect, it } from 'vitest';
import type { Ingredient } from '@free-lunch/contracts';
import { backoffDelay } from '../src/domain/backoff.js';
import {
  backoffAfterRound,
  EMPTY_ANSWERS_PER_ROUND,
  planPurchases,
  RoundCalls,
  type IngredientBackoff,
} from '../src/domain/purchase-plan.js';

const settings = { baseMs: 50, maxMs: 2000 };
const total = (plan: ReturnType<typeof planPurchases>) => plan.calls.reduce((sum, c) => sum + c.calls, 0);
const callsFor = (plan: ReturnType<typeof planPurchases>, ingredient: Ingredient) =>
  plan.calls.find((c) => c.ingredient === ingredient)?.calls ?? 0;

describe('planPurchases', () => {
  it('when many ingredients are short by a lot, then the calls never exceed the concurrency and are spread evenly', () => {
    const shortfall = new Map<Ingredient, number>([
      ['tomato', 100],
      ['cheese', 100],
      ['rice', 100],
      ['onion', 100],
    ]);
    const plan = planPurchases(shortfall, new Map(), 16, 0);
    expect(total(plan)).toBe(16);
    for (const ingredient of shortfall.keys()) expect(callsFor(plan, ingredient)).toBe(4);
  });

  it('when some ingredients are far shorter than others, then they get more of the calls, and every short one gets at least one', () => {
    const plan = planPurchases(new Map<Ingredient, number>([['tomato', 300], ['cheese', 100], ['lemon', 10]]), new Map(), 16, 0);
    expect(total(plan)).toBe(16);
    expect(callsFor(plan, 'tomato')).toBeGreaterThan(callsFor(plan, 'cheese'));
    expect(callsFor(plan, 'cheese')).toBeGreaterThan(callsFor(plan, 'lemon'));
    expect(callsFor(plan, 'lemon')).toBeGreaterThanOrEqual(1);
  });

  it('when an ingredient is short by a few units, then it gets no more calls than units missing', () => {
    const plan = planPurchases(new Map<Ingredient, number>([['lemon', 2], ['meat', 5]]), new Map(), 16, 0);
    expect(callsFor(plan, 'lemon')).toBe(2);
    expect(callsFor(plan, 'meat')).toBe(5);
  });

  it('when nothing is short, then no call is made', () => {
    const plan = planPurchases(new Map<Ingredient, number>([['lemon', 0], ['meat', -3]]), new Map(), 16, 0);
    expect(plan.calls).toEqual([]);
    expect(plan.nextRetryAt).toBeNull();
  });

  it('when an ingredient is backing off, then it gets no call until its time has come', () => {
    const backoff = new Map<Ingredient, IngredientBackoff>([['tomato', { failures: 2, retryAt: 1_000, lastAttemptAt: 900 }]]);
    const shortfall = new Map<Ingredient, number>([['tomato', 10], ['cheese', 10]]);
    const early = planPurchases(shortfall, backoff, 4, 950);
    expect(callsFor(early, 'tomato')).toBe(0);
    expect(callsFor(early, 'cheese')).toBe(4);
    expect(early.nextRetryAt).toBe(1_000);
    const later = planPurchases(shortfall, backoff, 4, 1_000);
    expect(callsFor(later, 'tomato')).toBe(2);
  });

  it('when the concurrency is smaller than the number of short ingredients, then the least recently asked go first', () => {
    const shortfall = new Map<Ingredient, number>([['tomato', 5], ['cheese', 5], ['rice', 5]]);
    const backoff = new Map<Ingredient, IngredientBackoff>([
      ['tomato', { failures: 0, retryAt: 0, lastAttemptAt: 30 }],
      ['cheese', { failures: 0, retryAt: 0, lastAttemptAt: 10 }],
    ]);
    const plan = planPurchases(shortfall, backoff, 2, 100);
    expect(plan.calls.map((c) => c.ingredient).sort()).toEqual(['cheese', 'rice']);
    expect(total(plan)).toBe(2);
  });
});

describe('RoundCalls', () => {
  const drain = (calls: RoundCalls) => {
    const made: Ingredient[] = [];
    for (let next = calls.next(); next; next = calls.next()) made.push(next);
    return made;
  };

  it('when a round has calls for several ingredients, then they take turns, so a round cut short has asked for each', () => {
    const plan = [
      { ingredient: 'tomato' as const, calls: 3 },
      { ingredient: 'lemon' as const, calls: 1 },
      { ingredient: 'cheese' as const, calls: 2 },
    ];
    const shortfall = new Map<Ingredient, number>([['tomato', 3], ['lemon', 1], ['cheese', 2]]);
    expect(drain(new RoundCalls(plan, shortfall, 16))).toEqual(['tomato', 'lemon', 'cheese', 'tomato', 'cheese', 'tomato']);
  });

  it('when the answers leave an ingredient short, then it gets another call; when they cover it, then none', () => {
    const calls = new RoundCalls([{ ingredient: 'lemon', calls: 2 }], new Map([['lemon', 4]]), 16);
    expect(drain(calls)).toEqual(['lemon', 'lemon']);
    calls.answered('lemon', 0); // 0 sold, 1 out: 3 short
    expect(drain(calls)).toEqual(['lemon']);
    calls.answered('lemon', 3); // 3 sold, 1 out: covered if it sells at least one
    calls.answered('lemon', 0); // 3 sold, none out: 1 short
    expect(drain(calls)).toEqual(['lemon']);
    calls.answered('lemon', 2);
    expect(drain(calls)).toEqual([]);
  });

  it('when the market keeps answering none, then the ingredient gets no more calls this round', () => {
    const calls = new RoundCalls([{ ingredient: 'rice', calls: 1 }], new Map([['rice', 1]]), 100);
    let made = drain(calls).length;
    for (let answers = 0; answers < 20; answers += 1) {
      calls.answered('rice', 0);
      made += drain(calls).length;
    }
    expect(made).toBe(EMPTY_ANSWERS_PER_ROUND);
  });

  it('when the round has spent its budget, then no call is added', () => {
    const calls = new RoundCalls([{ ingredient: 'meat', calls: 2 }], new Map([['meat', 50]]), 3);
    drain(calls);
    calls.answered('meat', 0);
    calls.answered('meat', 0);
    expect(drain(calls)).toEqual(['meat']);
    calls.answered('meat', 0);
    expect(drain(calls)).toEqual([]);
  });
});

describe('backoff', () => {
  it('when the market keeps coming up empty, then the wait grows exponentially and stays within base..max', () => {
    const lowest = [1, 2, 3, 4, 5, 6].map((n) => backoffDelay(n, settings, () => 0));
    expect(lowest).toEqual([50, 50, 100, 200, 400, 800]);
    for (let failures = 1; failures < 200; failures += 1) {
      for (const r of [0, 0.5, 0.999]) {
        const delay = backoffDelay(failures, settings, () => r);
        expect(delay).toBeGreaterThanOrEqual(settings.baseMs);
        expect(delay).toBeLessThanOrEqual(settings.maxMs);
      }
    }
    expect(backoffDelay(60, settings, () => 0.999)).toBeGreaterThan(1900);
  });

  it('when a round brings none of an ingredient, then it backs off; when it sells, then it is in good standing again', () => {
    const first = backoffAfterRound(new Map(), [{ ingredient: 'tomato', outcome: 'none' }, { ingredient: 'tomato', outcome: 'fault' }], 1_000, settings, () => 0);
    expect(first.get('tomato')).toEqual({ failures: 1, retryAt: 1_050, lastAttemptAt: 1_000 });
    const second = backoffAfterRound(first, [{ ingredient: 'tomato', outcome: 'none' }], 1_050, settings, () => 0);
    expect(second.get('tomato')?.failures).toBe(2);
    const sold = backoffAfterRound(second, [{ ingredient: 'tomato', outcome: 'none' }, { ingredient: 'tomato', outcome: 'sold' }], 1_200, settings);
    expect(sold.get('tomato')).toEqual({ failures: 0, retryAt: 1_200, lastAttemptAt: 1_200 });
  });
});
