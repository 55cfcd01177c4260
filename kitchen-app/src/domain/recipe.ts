import { recipeNames, type RecipeName } from '@free-lunch/contracts';

/**
 * Picks the dish for a new order: one of the six recipes, each equally likely.
 *
 * `random` is injected (same contract as `Math.random`: a number in [0, 1)) so tests can pick a
 * recipe on purpose. A generator that strays outside [0, 1) (or returns NaN) still gets a real
 * recipe rather than `undefined`: the choice is clamped to the first or last one.
 */
export function chooseRecipe(random: () => number = Math.random): RecipeName {
  const index = Math.floor(random() * recipeNames.length);
  const clamped = Number.isFinite(index) ? Math.min(Math.max(index, 0), recipeNames.length - 1) : 0;
  return recipeNames[clamped]!;
}
