import type { FastifyRequest, onResponseAsyncHookHandler, preValidationAsyncHookHandler } from 'fastify';
import { AppError } from '@free-lunch/service-kit';
import { isAllowedOrigin } from './origin-policy.js';
import type { SocketCaps } from './socket-caps.js';

/** What a client refused for lack of places is told to wait: sockets close all the time. */
export const FULL_RETRY_AFTER_S = 10;

const placeOf = new WeakMap<FastifyRequest['raw'], () => void>();

/**
 * Checks a `/ws` upgrade before it happens, so a refused client gets a plain HTTP answer and costs
 * no WebSocket: 403 for a page of an origin that may not watch, 429 (with Retry-After) when the
 * replica or the client's address holds its most sockets. A request without Origin is not from a
 * browser page; it is let through and still needs the manager token. Plain GETs pass untouched.
 */
export function guardUpgrades(deps: { allowedOrigins: readonly string[]; caps: SocketCaps }): preValidationAsyncHookHandler {
  return async (request, reply) => {
    if (!request.ws) return;
    const origin = request.headers.origin;
    // protocol and host come from X-Forwarded-* only when TRUST_PROXY says the proxy is believed.
    if (origin !== undefined && !isAllowedOrigin(origin, `${request.protocol}://${request.host}`, deps.allowedOrigins)) {
      throw new AppError('origin_not_allowed', `Pages from ${origin} may not open the live view; add the origin to CORS_ORIGINS to allow it.`, 403);
    }
    // Connections injected in-process (app.injectWS) have no socket, and so no address to count by.
    const place = deps.caps.take(request.raw.socket ? request.ip : 'in-process');
    if (!place.ok) {
      reply.header('retry-after', String(FULL_RETRY_AFTER_S));
      const whose = place.reason === 'address_full' ? 'from your address' : 'on this server';
      throw new AppError('too_many_connections', `Too many live view connections are open ${whose}; close one or retry later.`, 429);
    }
    placeOf.set(request.raw, place.release);
    // The TCP connection closes however the socket ends (closed, dropped, terminated, never upgraded).
    request.raw.socket?.once('close', place.release);
  };
}

/**
 * Gives back the place {@link guardUpgrades} took for `request`. For a connection without a TCP
 * socket of its own (tests' injectWS) this is what frees it: call it when the WebSocket closes, and
 * when the request was answered over HTTP instead of upgraded.
 */
export function releasePlace(request: FastifyRequest): void {
  placeOf.get(request.raw)?.();
}

export const releasePlaceOnResponse: onResponseAsyncHookHandler = async (request) => releasePlace(request);
