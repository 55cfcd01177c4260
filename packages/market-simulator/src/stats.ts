import { ingredients, type Ingredient } from '@free-lunch/contracts';
import { faultKinds, type FaultKind } from './options.js';
import type { MarketAnswer } from './sale.js';

/** What the market did for one ingredient since the last reset. */
export interface IngredientStats {
  /** Calls for this ingredient, faults included. */
  calls: number;
  /** Units handed over by honest sales; faults never count. */
  unitsSold: number;
  /** Honest answers of zero ("none today"). */
  zeros: number;
  faults: number;
}

/** `GET /stats` body. */
export interface MarketStats {
  /** When counting started: at start-up or the last `POST /reset-stats`. */
  since: string;
  ingredients: Record<Ingredient, IngredientStats>;
  /** Sums over every ingredient, plus calls turned away for a missing or unknown ingredient. */
  totals: IngredientStats & { rejected: number };
  /** Faults produced, by kind. */
  faults: Record<FaultKind, number>;
}

/** Counts calls as they arrive; kept to a few increments because it runs on every call. */
export class MarketStatsRecorder {
  private since = new Date();
  private perIngredient = emptyIngredientStats();
  private perFault = emptyFaultCounts();
  private rejected = 0;

  record(ingredient: Ingredient, answer: MarketAnswer): void {
    const stats = this.perIngredient[ingredient];
    stats.calls += 1;
    if (answer.kind === 'fault') {
      stats.faults += 1;
      this.perFault[answer.fault] += 1;
    } else if (answer.quantitySold === 0) {
      stats.zeros += 1;
    } else {
      stats.unitsSold += answer.quantitySold;
    }
  }

  recordRejected(): void {
    this.rejected += 1;
  }

  reset(): void {
    this.since = new Date();
    this.perIngredient = emptyIngredientStats();
    this.perFault = emptyFaultCounts();
    this.rejected = 0;
  }

  snapshot(): MarketStats {
    const totals = { calls: 0, unitsSold: 0, zeros: 0, faults: 0, rejected: this.rejected };
    const perIngredient = {} as Record<Ingredient, IngredientStats>;
    for (const ingredient of ingredients) {
      const stats = { ...this.perIngredient[ingredient] };
      perIngredient[ingredient] = stats;
      totals.calls += stats.calls;
      totals.unitsSold += stats.unitsSold;
      totals.zeros += stats.zeros;
      totals.faults += stats.faults;
    }
    return { since: this.since.toISOString(), ingredients: perIngredient, totals, faults: { ...this.perFault } };
  }
}

function emptyIngredientStats(): Record<Ingredient, IngredientStats> {
  return Object.fromEntries(
    ingredients.map((ingredient) => [ingredient, { calls: 0, unitsSold: 0, zeros: 0, faults: 0 }]),
  ) as Record<Ingredient, IngredientStats>;
}

function emptyFaultCounts(): Record<FaultKind, number> {
  return Object.fromEntries(faultKinds.map((fault) => [fault, 0])) as Record<FaultKind, number>;
}
