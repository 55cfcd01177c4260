import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { Counter, Gauge, type Registry } from 'prom-client';
import { countTicketsInProgress } from './data/tickets.js';
import type { KitchenMetrics } from './use-cases/kitchen-ports.js';

/**
 * The kitchen's own metrics in the app's registry. Counters count what this process did (sum
 * them over replicas); the in-progress gauge is read from PostgreSQL at scrape time, so every
 * replica reports the whole kitchen, cheaply, from two small partial indexes.
 */
export function kitchenMetrics(registry: Registry, pool: pg.Pool, log: FastifyBaseLogger): KitchenMetrics {
  const opened = new Counter({
    name: 'kitchen_tickets_opened_total',
    help: 'Tickets opened for newly placed orders.',
    registers: [registry],
  });
  const reDriven = new Counter({
    name: 'kitchen_tickets_redriven_total',
    help: 'Tickets announced again because their order was placed again (redelivery or reconciler nudge).',
    registers: [registry],
  });
  const delivered = new Counter({
    name: 'kitchen_dishes_delivered_total',
    help: 'Dishes delivered.',
    registers: [registry],
  });
  const ignored = new Counter({
    name: 'kitchen_dispatches_ignored_total',
    help: 'Ingredient dispatches not matching a waiting ticket (unknown order or another recipe).',
    labelNames: ['reason'] as const,
    registers: [registry],
  });
  // Zero from the start, so alerts on rate() see the first ignored dispatch.
  for (const reason of ['unknown_order', 'wrong_recipe'] as const) ignored.inc({ reason }, 0);
  new Gauge({
    name: 'kitchen_tickets_in_progress',
    help: 'Tickets still in the kitchen, by status.',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      try {
        const counts = await countTicketsInProgress(pool);
        this.set({ status: 'awaiting_ingredients' }, counts.awaiting_ingredients);
        this.set({ status: 'cooking' }, counts.cooking);
      } catch (error) {
        // A database hiccup must not take the rest of /metrics down with it: keep the last values.
        log.warn({ err: error }, 'could not count tickets in progress for /metrics');
      }
    },
  });

  return {
    ticketsOpened: (count) => opened.inc(count),
    ticketsReDriven: (count) => reDriven.inc(count),
    dishesDelivered: (count) => delivered.inc(count),
    dispatchesIgnored: (reason, count) => ignored.inc({ reason }, count),
  };
}
