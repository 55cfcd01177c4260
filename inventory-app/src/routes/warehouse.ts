import type { FastifyPluginAsync } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { ErrorBody, ListPurchasesQuery, PurchasePage, StockAudit, StockResponse } from '@free-lunch/contracts';
import { SharedRead } from '@free-lunch/service-kit';
import { auditStock } from '../use-cases/audit.js';
import { browsePurchases, showStock } from '../use-cases/browse-warehouse.js';

/** However many ask for the audit, this replica sums the whole ledger at most this often. */
const AUDIT_MAX_AGE_MS = 500;

/**
 * GET /stock, GET /purchases, GET /stock/audit: what the manager's dashboard reads from the warehouse.
 * They read on app.pgReads, so the dispatching consumers keep their connections however hard these are read.
 */
export const warehouseRoutes: FastifyPluginAsync = async (plainApp) => {
  const app = plainApp.withTypeProvider<ZodTypeProvider>();
  // Shared as the JSON it is sent as: a crowd of readers costs neither a query nor a serialization each.
  const auditJson = new SharedRead(async () => JSON.stringify(await auditStock(app.pgReads)), AUDIT_MAX_AGE_MS);

  app.get(
    '/stock',
    {
      schema: {
        tags: ['warehouse'],
        summary: 'Units on hand per ingredient',
        response: { 200: StockResponse, 503: ErrorBody },
      },
    },
    () => showStock(app.pgReads),
  );

  app.get(
    '/purchases',
    {
      schema: {
        tags: ['warehouse'],
        summary: 'Farmers-market attempts, newest first, zeros and faults included',
        description: 'Pass `nextCursor` back as `cursor` for the next page; it is null on the last page.',
        querystring: ListPurchasesQuery,
        response: { 200: PurchasePage, 400: ErrorBody, 503: ErrorBody },
      },
    },
    (request) => browsePurchases(app.pgReads, request.query),
  );

  // Untyped by the zod provider: it sends the audit already serialized (the schema still documents it).
  plainApp.get(
    '/stock/audit',
    {
      schema: {
        tags: ['warehouse'],
        summary: 'Ledger audit: per ingredient, 5 + bought − dispatched must equal what is on hand',
        description:
          `Summed over the whole ledger in one snapshot, at most every ${AUDIT_MAX_AGE_MS} ms; ` +
          'callers in between share the last audit.',
        response: { 200: StockAudit, 503: ErrorBody },
      },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(await auditJson.get()),
  );
};
