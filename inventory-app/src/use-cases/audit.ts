import type pg from 'pg';
import { INITIAL_STOCK_PER_INGREDIENT, type IngredientAudit, type StockAudit } from '@free-lunch/contracts';
import { loadAuditTotals } from '../data/ledger.js';
import { toStockLevels } from '../data/stock.js';

/**
 * Checks that every unit is accounted for. Per ingredient: the opening stock plus everything the
 * market sold minus everything handed to the kitchen must be what is on hand. Two cross-checks make
 * sure the ledger tells the same story as the records it summarizes: its purchase rows add up to the
 * purchases, and its dispatch rows add up to what the dispatched requests needed.
 */
export async function auditStock(pool: pg.Pool): Promise<StockAudit> {
  const totals = await loadAuditTotals(pool);
  const byIngredient = new Map(totals.map((total) => [total.ingredient, total]));
  const ingredients: IngredientAudit[] = toStockLevels(new Map(totals.map((t) => [t.ingredient, t.onHand]))).map(
    ({ ingredient }) => {
      const total = byIngredient.get(ingredient)!;
      const expected = INITIAL_STOCK_PER_INGREDIENT + total.bought - total.dispatched;
      const ledgerAgrees = total.boughtInLedger === total.bought && total.dispatchedToOrders === total.dispatched;
      return {
        ingredient,
        initial: INITIAL_STOCK_PER_INGREDIENT,
        bought: total.bought,
        dispatched: total.dispatched,
        onHand: total.onHand,
        expected,
        ok: expected === total.onHand && ledgerAgrees,
      };
    },
  );
  return { ok: ingredients.every((ingredient) => ingredient.ok), ingredients };
}
