import type { FastifyInstance } from 'fastify';

/** Lets start-up scripts and orchestrators wait for the market to open. */
export function registerHealthRoute(app: FastifyInstance): void {
  app.get('/health', async () => ({ status: 'ok', service: 'market-simulator' }));
}
