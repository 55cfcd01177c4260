import { ErrorBody, ListPurchasesQuery, PurchasePage, StockAudit, StockResponse } from '@free-lunch/contracts';
import { allowCrossOriginReads } from '@free-lunch/service-kit';
import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { auditStock } from '../use-cases/audit.js';
import { browsePurchases, showStock } from '../use-cases/browse-warehouse.js';

/** GET /stock, GET /purchases, GET /stock/audit: what the manager's dashboard reads from the warehouse. */
export const warehouseRoutes: FastifyPluginAsync = async (plainApp) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  app.addHook('onRequest', allowCrossOriginReads);

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
