import { describe, expect, it } from 'vitest';
import { ingredients, recipeBook, type Ingredient, type RecipeName } from '@free-lunch/contracts';
import { combineNeeds, planDispatches, type PendingRequest } from '../src/domain/dispatch-plan.js';

function stockOf(levels: Partial<Record<Ingredient, number>>): Map<Ingredient, number> {
  return new Map(ingredients.map((ingredient) => [ingredient, levels[ingredient] ?? 0]));
}

let next = 0;
function request(recipe: RecipeName): PendingRequest & { recipe: RecipeName } {
  next += 1;
  return { orderId: `order-${next}-${recipe}`, recipe, needs: recipeBook[recipe] };
}

describe('planDispatches', () => {
  it('when the warehouse holds everything a recipe needs, then it dispatches it and takes exactly those units', () => {
    const pizza = request('pizza');
    const plan = planDispatches(stockOf({ cheese: 5, tomato: 5 }), [pizza]);
    expect(plan.dispatches).toEqual([pizza]);
    expect(plan.stockAfter.get('cheese')).toBe(3);
    expect(plan.stockAfter.get('tomato')).toBe(2);
    expect(Object.fromEntries(plan.unitsOut)).toEqual({ cheese: 2, tomato: 3 });
    expect(plan.waiting).toBe(0);
  });

  it('when one ingredient is short, then nothing of the recipe leaves the warehouse (all or nothing)', () => {
    const pizza = request('pizza');
    const stock = stockOf({ cheese: 5, tomato: 2 });
    const plan = planDispatches(stock, [pizza]);
    expect(plan.dispatches).toEqual([]);
    expect(plan.stockAfter).toEqual(stock);
    expect(plan.unitsOut.size).toBe(0);
    expect(plan.waiting).toBe(1);
  });

  it('when stock covers only some requests, then the oldest are served first', () => {
    const first = request('french_fries');
    const second = request('french_fries');
    const third = request('french_fries');
    const plan = planDispatches(stockOf({ potato: 6, ketchup: 5 }), [first, second, third]);
    expect(plan.dispatches).toEqual([first, second]);
    expect(plan.waiting).toBe(1);
  });

  it('when an older request waits for the market, then later requests cannot take the units it is counting on', () => {
    // The pizza waits for cheese; the salads would happily eat its tomatoes.
    const pizza = request('pizza');
    const salads = [request('salad'), request('salad')];
    const plan = planDispatches(stockOf({ tomato: 4, cheese: 1, lemon: 5, onion: 5, lettuce: 5 }), [pizza, ...salads]);
    expect(plan.dispatches).toEqual([]);
    expect(plan.stockAfter.get('tomato')).toBe(4);
  });

  it('when an older request waits, then later requests may still use stock nobody earlier needs', () => {
    const pizza = request('pizza'); // waits for cheese, claims 3 of 5 tomatoes
    const salad = request('salad'); // needs 2 tomatoes: exactly what is unclaimed
    const fries = request('french_fries'); // needs no tomato at all
    const plan = planDispatches(
      stockOf({ tomato: 5, cheese: 1, lemon: 1, onion: 1, lettuce: 2, potato: 3, ketchup: 1 }),
      [pizza, salad, fries],
    );
    expect(plan.dispatches).toEqual([salad, fries]);
    expect(plan.stockAfter.get('tomato')).toBe(3);
    expect(plan.waiting).toBe(1);
  });

  it('when the waiting request finally gets its missing ingredient, then it is served before newer ones', () => {
    const pizza = request('pizza');
    const laterPizza = request('pizza');
    const plan = planDispatches(stockOf({ tomato: 3, cheese: 2 }), [pizza, laterPizza]);
    expect(plan.dispatches).toEqual([pizza]);
  });

  it('when many random requests compete for random stock, then no ingredient ever goes negative and every dispatch was covered', () => {
    const recipes = Object.keys(recipeBook) as RecipeName[];
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    for (let trial = 0; trial < 200; trial += 1) {
      const stock = stockOf(Object.fromEntries(ingredients.map((i) => [i, Math.floor(random() * 8)])));
      const pending = Array.from({ length: 25 }, () => request(recipes[Math.floor(random() * recipes.length)]!));
      const plan = planDispatches(stock, pending);
      for (const ingredient of ingredients) {
        const out = plan.dispatches
          .flatMap((r) => r.needs)
          .filter((n) => n.ingredient === ingredient)
          .reduce((sum, n) => sum + n.quantity, 0);
        expect(plan.stockAfter.get(ingredient)).toBe(stock.get(ingredient)! - out);
        expect(plan.stockAfter.get(ingredient)).toBeGreaterThanOrEqual(0);
      }
      expect(plan.waiting).toBe(pending.length - plan.dispatches.length);
    }
  });

  it('when what is left unclaimed makes no dish, then the plan says reading further down the queue is pointless', () => {
    const pizza = request('pizza'); // claims the tomatoes; 20 lemons alone make nothing
    const plan = planDispatches(stockOf({ tomato: 3, lemon: 20 }), [pizza]);
    expect(plan.exhausted).toBe(true);
    const roomy = planDispatches(stockOf({ tomato: 9, cheese: 4 }), [request('pizza')]);
    expect(roomy.exhausted).toBe(false);
  });

  it('when there is nothing in stock, then nothing is dispatched and every request keeps waiting', () => {
    const plan = planDispatches(stockOf({}), [request('burger'), request('salad')]);
    expect(plan.dispatches).toEqual([]);
    expect(plan.waiting).toBe(2);
  });
});

describe('combineNeeds', () => {
  it('when a request lists an ingredient twice, then the warehouse counts the sum once', () => {
    expect(
      combineNeeds([
        { ingredient: 'tomato', quantity: 2 },
        { ingredient: 'cheese', quantity: 1 },
        { ingredient: 'tomato', quantity: 1 },
      ]),
    ).toEqual([
      { ingredient: 'tomato', quantity: 3 },
      { ingredient: 'cheese', quantity: 1 },
    ]);
  });
});
