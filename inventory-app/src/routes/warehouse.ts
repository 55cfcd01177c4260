import { ErrorBody, ListPurchasesQuery, PurchasePage, StockAudit, StockResponse } from '@free-lunch/contracts';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { auditStock } from '../use-cases/audit.js';
import { browsePurchases, showStock } from '../use-cases/browse-warehouse.js';

/** GET /stock, GET /purchases, GET /stock/audit: what the manager's dashboard reads from the warehouse. */
export const warehouseRoutes: FastifyPluginAsync = async (plainApp) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  // The dashboard is served by orders-app, another origin: let browsers read these (nothing here is
  // secret and nothing here changes state; the header is scoped to this plugin's GET routes).
  app.addHook('onRequest', async (_request, reply) => {
    reply.header('access-control-allow-origin', '*');
  });

  app.get(
    '/stock',
    {
      schema: {
        tags: ['warehouse'],
        summary: 'Units on hand per ingredient',
        response: { 200: StockResponse },
      },
    },
    () => showStock(app.pg),
  );

  app.get(
    '/purchases',
    {
      schema: {
        tags: ['warehouse'],
        summary: 'Farmers-market attempts, newest first, zeros and faults included',
        description: 'Pass `nextCursor` back as `cursor` for the next page; it is null on the last page.',
        querystring: ListPurchasesQuery,
        response: { 200: PurchasePage, 400: ErrorBody },
      },
    },
    (request) => browsePurchases(app.pg, request.query),
  );

  app.get(
    '/stock/audit',
    {
      schema: {
        tags: ['warehouse'],
        summary: 'Ledger audit: per ingredient, 5 + bought − dispatched must equal what is on hand',
        response: { 200: StockAudit },
      },
    },
    () => auditStock(app.pg),
  );
};
