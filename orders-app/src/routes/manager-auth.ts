import { AppError } from '@free-lunch/service-kit';
import type { onRequestAsyncHookHandler } from 'fastify';
import { bearerToken, isManagerToken } from '../domain/manager-token.js';

/**
 * An onRequest hook letting only the manager through. It runs before the body is read or
 * validated, so a caller without the token learns nothing about what the route would accept.
 */
export function managerOnly(managerToken: string): onRequestAsyncHookHandler {
  return async (request, reply) => {
    if (isManagerToken(bearerToken(request.headers.authorization), managerToken)) return;
    reply.header('www-authenticate', 'Bearer');
    throw new AppError('unauthorized', 'This needs the manager token: send Authorization: Bearer <MANAGER_TOKEN>.', 401);
  };
}
