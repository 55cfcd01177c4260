import { Counter, Gauge, type Registry } from 'prom-client';
import type { Ingredient, PurchaseOutcome } from '@free-lunch/contracts';

/** What the warehouse reports to Prometheus besides the HTTP and stream metrics every service has. */
export interface InventoryMetrics {
  marketCalls(outcome: PurchaseOutcome, count: number): void;
  unitsBought(ingredient: Ingredient, units: number): void;
  unitsDispatched(ingredient: Ingredient, units: number): void;
}

/**
 * Registers the warehouse's metrics in the app's registry. The pending-requests gauge is read from
 * PostgreSQL at scrape time, so it is right whichever replica served the requests.
 */
export function inventoryMetrics(registry: Registry, countPendingRequests: () => Promise<number>): InventoryMetrics {
  new Gauge({
    name: 'inventory_pending_requests',
    help: 'Ingredient requests waiting for stock (all replicas).',
    registers: [registry],
    async collect() {
      // A scrape while PostgreSQL is away keeps the last value rather than failing all metrics.
      try {
        this.set(await countPendingRequests());
      } catch {
        /* keep the last value */
      }
    },
  });
  const calls = new Counter({
    name: 'inventory_market_calls_total',
    help: 'Farmers-market calls made by this replica, by outcome (sold, none, fault).',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const bought = new Counter({
    name: 'inventory_units_bought_total',
    help: 'Ingredient units bought at the market by this replica.',
    labelNames: ['ingredient'] as const,
    registers: [registry],
  });
  const dispatched = new Counter({
    name: 'inventory_units_dispatched_total',
    help: 'Ingredient units handed to the kitchen by this replica.',
    labelNames: ['ingredient'] as const,
    registers: [registry],
  });
  return {
    marketCalls: (outcome, count) => calls.inc({ outcome }, count),
    unitsBought: (ingredient, units) => bought.inc({ ingredient }, units),
    unitsDispatched: (ingredient, units) => dispatched.inc({ ingredient }, units),
  };
}
