import type { FastifyPluginAsync, onRequestAsyncHookHandler } from 'fastify';
import { z } from 'zod';
import {
  ErrorBody,
  ListOrdersQuery,
  Order,
  OrderCounts,
  OrderIdParams,
  OrderPage,
  PlaceOrdersResponse,
  placeOrdersBody,
  type PlaceOrdersBody,
} from '@free-lunch/contracts';
import { SharedRead } from '@free-lunch/service-kit';
import type { PublishCommitted } from '@free-lunch/streams';
import { countUndeliveredOrders } from '../data/orders.js';
import { BacklogCap } from '../domain/backlog-cap.js';
import { browseOrders, getOrder, summarizeOrders } from '../use-cases/browse-orders.js';
import { placeOrders } from '../use-cases/place-orders.js';

export interface OrdersRoutesOptions {
  /** Lets only the manager through, within the per-token limit on placing orders (see managerOnly). */
  managerOnly: onRequestAsyncHookHandler;
  maxOrderQuantity: number;
  /** Publishes the outbox now: the placed orders reach the kitchen without waiting for the relay's poll. */
  publishNow: PublishCommitted;
  /** MAX_OUTSTANDING_ORDERS. */
  maxOutstandingOrders: number;
}

/** However many read the counters, this replica counts at most this often. */
const SUMMARY_MAX_AGE_MS = 500;

// Loose: Fastify hands the validated object back as request.headers, which must keep every header.
const PlaceOrdersHeaders = z.looseObject({
  authorization: z.string().optional().describe('Bearer <MANAGER_TOKEN>'),
  'idempotency-key': z
    .string()
    .min(1)
    .max(200)
    .optional()
    .describe('Retrying with the same key returns the first answer instead of placing more orders'),
});

/** Placing orders (manager only) and reading them back (anyone). */
export const ordersRoutes: FastifyPluginAsync<OrdersRoutesOptions> = async (app, options) => {
  const PlaceOrdersBody = placeOrdersBody(options.maxOrderQuantity);
  // The cap counts on the main pool: placing orders must not wait behind the public readers.
  const backlog = new BacklogCap({ max: options.maxOutstandingOrders, countUndelivered: () => countUndeliveredOrders(app.pg) });
  // Shared as the JSON it is sent as: a crowd of readers costs neither a query nor a serialization each.
  const summaryJson = new SharedRead(async () => JSON.stringify(await summarizeOrders(app.pgReads)), SUMMARY_MAX_AGE_MS);

  app.post<{ Body: PlaceOrdersBody; Headers: z.infer<typeof PlaceOrdersHeaders>; Reply: PlaceOrdersResponse }>(
    '/orders',
    {
      onRequest: options.managerOnly,
      schema: {
        tags: ['orders'],
        summary: 'Place free lunches',
        description:
          `Places \`quantity\` orders (1–${options.maxOrderQuantity}, default 1), all \`queued\`. They are stored ` +
          'before the answer and handed to the kitchen right after. Needs `Authorization: Bearer <MANAGER_TOKEN>`. ' +
          `Answers 429 with \`Retry-After\` (seconds) and stores nothing when the orders not yet delivered plus ` +
          `\`quantity\` would exceed ${options.maxOutstandingOrders}.`,
        headers: PlaceOrdersHeaders,
        body: PlaceOrdersBody,
        response: { 202: PlaceOrdersResponse, 400: ErrorBody, 401: ErrorBody, 422: ErrorBody, 429: ErrorBody },
      },
    },
    async (request, reply) => {
      const placed = await placeOrders(
        { pool: app.pg, publishNow: options.publishNow, backlog },
        { quantity: request.body.quantity, idempotencyKey: request.headers['idempotency-key'] },
      );
      return reply.code(202).send(placed);
    },
  );

  app.get<{ Querystring: ListOrdersQuery; Reply: OrderPage }>(
    '/orders',
    {
      schema: {
        tags: ['orders'],
        summary: 'Orders, newest first',
        description: 'Pass `nextCursor` back as `cursor` for the next page; it is null on the last page.',
        querystring: ListOrdersQuery,
        response: { 200: OrderPage, 400: ErrorBody, 503: ErrorBody },
      },
    },
    (request) => browseOrders(app.pgReads, request.query),
  );

  app.get(
    '/orders/summary',
    {
      schema: {
        tags: ['orders'],
        summary: 'How many orders are in each status',
        description: `Counted at most every ${SUMMARY_MAX_AGE_MS} ms; callers in between share the last count.`,
        response: { 200: OrderCounts, 503: ErrorBody },
      },
    },
    async (_request, reply) => reply.type('application/json; charset=utf-8').send(await summaryJson.get()),
  );

  app.get<{ Params: z.infer<typeof OrderIdParams>; Reply: Order }>(
    '/orders/:id',
    {
      schema: {
        tags: ['orders'],
        summary: 'One order with its status timeline',
        params: OrderIdParams,
        response: { 200: Order, 400: ErrorBody, 404: ErrorBody, 503: ErrorBody },
      },
    },
    (request) => getOrder(app.pgReads, request.params.id),
  );
};
