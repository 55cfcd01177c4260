import { useI18n } from '../language.js';
import type { DashboardView } from '../live/view.js';

/** The kitchen's six recipes with what each dish takes. */
export function Recipes({ view }: { view: DashboardView }) {
  const { t, recipe, ingredient, number } = useI18n();
  const state = view.recipes;
  return (
    <section className="card recipes" aria-labelledby="recipes-title">
      <h2 id="recipes-title">{t.recipesTitle}</h2>
      {state.kind === 'loading' && <p className="muted">{t.recipesLoading}</p>}
      {state.kind === 'failed' && (
        <p className="banner banner-error" role="alert">
          {t.recipesFailed}
        </p>
      )}
      {state.kind === 'loaded' && (
        <ul className="recipe-list" data-testid="recipes">
          {state.recipes.map((item) => (
            <li key={item.name} className="recipe" data-recipe={item.name}>
              <h3>{recipe(item.name)}</h3>
              <ul className="recipe-ingredients">
                {item.ingredients.map((need) => (
                  <li key={need.ingredient}>
                    <span>{ingredient(need.ingredient)}</span>
                    <span className="quantity">× {number(need.quantity)}</span>
                  </li>
                ))}
              </ul>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}
