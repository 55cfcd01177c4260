import type { FastifyInstance } from 'fastify';
import type { FarmersMarket } from '../farmers-market.js';
import { InvalidMarketOptionsError } from '../options.js';

export function registerConfigRoutes(app: FastifyInstance, market: FarmersMarket): void {
  /** The options in force. */
  app.get('/config', async () => market.options);

  /** Changes the options named in the body, at once, for every later call; answers the options now in force. */
  app.put('/config', async (request, reply) => {
    try {
      const options = market.configure(request.body);
      request.log.info({ options }, 'market options changed');
      return options;
    } catch (error) {
      if (!(error instanceof InvalidMarketOptionsError)) throw error;
      return reply.code(400).send({ error: 'validation_failed', message: error.message });
    }
  });
}
