import {
  ingredients,
  recipeBook,
  type Ingredient,
  type IngredientQuantity,
  type PurchaseRecord,
  type Recipe,
  type RecipeName,
} from '@free-lunch/contracts';
import {
  preparingStatuses,
  type DeliveredOrder,
  type PreparingStatus,
  type Restaurant,
} from '../model/restaurant.js';
import { unitsNeeded, waitingFor } from '../model/waiting-for.js';
import type { ConnectionState } from './live-connection.js';

/** Rows listed per preparation column; the rest is counted. */
export const ROWS_PER_COLUMN = 12;
export const HISTORY_PAGE_SIZE = 15;
export const PURCHASES_SHOWN = 25;
/** Seconds the charts cover. */
export const CHART_SECONDS = 60;

export interface PreparingRow {
  id: string;
  recipe: RecipeName | null;
  ageMs: number;
  /** For an order awaiting ingredients: those the warehouse has fewer of than its recipe needs. */
  waitingFor: Ingredient[];
}

export interface PreparationColumn {
  status: PreparingStatus;
  total: number;
  /** The oldest first: they have waited longest. */
  rows: PreparingRow[];
}

export interface StockRow {
  ingredient: Ingredient;
  onHand: number;
  /** Units the recipes of every order awaiting ingredients need. */
  needed: number;
}

export interface Series {
  /** Epoch second of each point, oldest first. */
  seconds: number[];
  placed: number[];
  delivered: number[];
  backlog: Array<number | null>;
}

export type SnapshotState = { kind: 'waiting' } | { kind: 'loading' } | { kind: 'loaded' } | { kind: 'failed'; message: string };

export type RecipesState = { kind: 'loading' } | { kind: 'loaded'; recipes: Recipe[] } | { kind: 'failed' };

/** Everything the page shows, rebuilt at most once per animation frame. */
export interface DashboardView {
  now: number;
  connection: ConnectionState;
  snapshot: SnapshotState;
  counts: { placed: number; inPreparation: number; delivered: number } & Record<PreparingStatus, number>;
  columns: PreparationColumn[];
  recentDelivered: DeliveredOrder[];
  stock: StockRow[] | null;
  /** When the warehouse last reported a change (null until one arrives live). */
  stockChangedAt: number | null;
  purchases: PurchaseRecord[];
  purchaseTotals: { attempts: number; units: number; none: number; faults: number };
  series: Series;
  recipes: RecipesState;
}

export function buildView(
  restaurant: Restaurant,
  state: { connection: ConnectionState; snapshot: SnapshotState; recipes: RecipesState },
  now: number,
): DashboardView {
  const book = recipeIndex(state.recipes);
  const byStatus = restaurant.countByStatus();
  const columns: PreparationColumn[] = preparingStatuses.map((status) => ({ status, total: byStatus[status], rows: [] }));
  const column = Object.fromEntries(columns.map((c) => [c.status, c])) as Record<PreparingStatus, PreparationColumn>;
  const awaitingRecipes: Array<readonly IngredientQuantity[] | undefined> = [];

  // The map keeps the order in which the page learned of each order: oldest first.
  for (const order of restaurant.preparing.values()) {
    const recipe = order.recipe ? book[order.recipe] : undefined;
    if (order.status === 'awaiting_ingredients') awaitingRecipes.push(recipe);
    const target = column[order.status];
    if (target.rows.length >= ROWS_PER_COLUMN) continue;
    target.rows.push({
      id: order.id,
      recipe: order.recipe,
      ageMs: now - (order.placedAt ?? order.firstSeenAt),
      waitingFor: order.status === 'awaiting_ingredients' ? waitingFor(recipe, restaurant.stock) : [],
    });
  }

  const needed = unitsNeeded(awaitingRecipes);
  const shelf = restaurant.stock;
  const stock = shelf
    ? ingredients.map((ingredient) => ({ ingredient, onHand: shelf.get(ingredient) ?? 0, needed: needed.get(ingredient) ?? 0 }))
    : null;

  const purchaseTotals = { attempts: restaurant.purchases.length, units: 0, none: 0, faults: 0 };
  for (const purchase of restaurant.purchases) {
    purchaseTotals.units += purchase.quantitySold;
    if (purchase.outcome === 'none') purchaseTotals.none += 1;
    if (purchase.outcome === 'fault') purchaseTotals.faults += 1;
  }

  return {
    now,
    connection: state.connection,
    snapshot: state.snapshot,
    counts: {
      ...byStatus,
      inPreparation: restaurant.preparing.size,
      delivered: restaurant.deliveredCount,
      placed: restaurant.preparing.size + restaurant.deliveredCount,
    },
    columns,
    recentDelivered: restaurant.recentDelivered.slice(0, HISTORY_PAGE_SIZE),
    stock,
    stockChangedAt: restaurant.stockChangedAt,
    purchases: restaurant.purchases.slice(0, PURCHASES_SHOWN),
    purchaseTotals,
    series: series(restaurant, now),
    recipes: state.recipes,
  };
}

/** The kitchen's recipe book once read; until then (or if it cannot be read) the contract's. */
function recipeIndex(recipes: RecipesState): Record<RecipeName, readonly IngredientQuantity[]> {
  if (recipes.kind !== 'loaded') return recipeBook;
  return { ...recipeBook, ...Object.fromEntries(recipes.recipes.map((recipe) => [recipe.name, recipe.ingredients])) };
}

function series(restaurant: Restaurant, now: number): Series {
  const last = Math.floor(now / 1000);
  const backlog = new Map(restaurant.backlog);
  const result: Series = { seconds: [], placed: [], delivered: [], backlog: [] };
  for (let second = last - CHART_SECONDS + 1; second <= last; second += 1) {
    const counts = restaurant.throughput.get(second);
    result.seconds.push(second);
    result.placed.push(counts?.placed ?? 0);
    result.delivered.push(counts?.delivered ?? 0);
    result.backlog.push(backlog.get(second) ?? null);
  }
  return result;
}
