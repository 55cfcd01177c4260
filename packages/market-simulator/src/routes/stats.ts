import type { FastifyInstance } from 'fastify';
import type { FarmersMarket } from '../farmers-market.js';

export function registerStatsRoutes(app: FastifyInstance, market: FarmersMarket): void {
  /** Calls, units sold, zeros and faults per ingredient since start-up or the last reset. */
  app.get('/stats', async () => market.stats.snapshot());

  /**
   * Starts counting afresh and answers with the stats counted until now, so a benchmark can read
   * and reset in one step without losing the calls made in between.
   */
  app.post('/reset-stats', async () => {
    const counted = market.stats.snapshot();
    market.stats.reset();
    return counted;
  });
}
