import { describe, expect, it } from 'vitest';
import { recipeNames } from '@free-lunch/contracts';
import { chooseRecipe } from '../src/domain/recipe.js';

describe('chooseRecipe', () => {
  it('when the random numbers sweep [0, 1), then every one of the six recipes comes up, in menu order', () => {
    const chosen = recipeNames.map((_, index) => chooseRecipe(() => (index + 0.5) / recipeNames.length));
    expect(chosen).toEqual([...recipeNames]);
  });

  it('when left to Math.random, then it only ever picks the six recipes and, over many orders, all of them', () => {
    const chosen = new Set(Array.from({ length: 2000 }, () => chooseRecipe()));
    expect([...chosen].sort()).toEqual([...recipeNames].sort());
  });

  it('when the random source hits its edges or misbehaves, then it still picks a real recipe', () => {
    expect(chooseRecipe(() => 0)).toBe(recipeNames[0]);
    expect(chooseRecipe(() => 0.999_999_999)).toBe(recipeNames[recipeNames.length - 1]);
    expect(chooseRecipe(() => 1)).toBe(recipeNames[recipeNames.length - 1]);
    expect(chooseRecipe(() => -0.5)).toBe(recipeNames[0]);
    expect(recipeNames).toContain(chooseRecipe(() => Number.NaN));
  });
});
