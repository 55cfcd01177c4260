import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * An `onRequest` hook for read-only routes the manager's dashboard reads from another origin (it is
 * served by orders-app; kitchen and inventory answer on their own ports). Add it inside the plugin
 * that holds those routes, so nothing else is opened to other origins. Only for data that is neither
 * secret nor changed by the request.
 */
export async function allowCrossOriginReads(_request: FastifyRequest, reply: FastifyReply): Promise<void> {
  reply.header('access-control-allow-origin', '*');
}
