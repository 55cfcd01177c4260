import type pg from 'pg';
import type { IngredientQuantity, Recipe, RecipeName } from '@free-lunch/contracts';

interface RecipeRow {
  name: RecipeName;
  ingredients: IngredientQuantity[];
}

/** The kitchen's recipe book, in menu order. */
export async function listRecipes(db: pg.Pool): Promise<Recipe[]> {
  const { rows } = await db.query<RecipeRow>('SELECT name, ingredients FROM recipes ORDER BY position');
  return rows.map(({ name, ingredients }) => ({ name, ingredients }));
}
