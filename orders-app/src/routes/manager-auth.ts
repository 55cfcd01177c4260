import { randomBytes } from 'node:crypto';
import type { FastifyBaseLogger, FastifyReply, FastifyRequest, onRequestAsyncHookHandler } from 'fastify';
import { AppError, rateLimited, type ManualLimit } from '@free-lunch/service-kit';
import { managerTokensOf, type OrdersConfig } from '../config.js';
import { bearerToken, ManagerTokens } from '../domain/manager-token.js';

/** Who the manager is, and how many wrong guesses an address gets before it must wait. */
export interface ManagerAccess {
  tokens: ManagerTokens;
  /** Failed authentications per client address. */
  authFailures: ManualLimit;
}

/**
 * An onRequest hook letting only the manager through, at most `perToken` times a minute per token.
 * It runs before the body is read or validated, so a caller without the token learns nothing about
 * what the route would accept. An address that keeps presenting wrong tokens is refused with 429
 * before its guesses are even compared.
 */
export function managerOnly(access: ManagerAccess, perToken: ManualLimit): onRequestAsyncHookHandler {
  return async (request, reply) => {
    await refuseWhileGuessing(access, request, reply);
    if (!access.tokens.matches(bearerToken(request.headers.authorization))) {
      await countFailedAuthentication(access, request, reply);
      reply.header('www-authenticate', 'Bearer');
      throw new AppError('unauthorized', 'This needs the manager token: send Authorization: Bearer <token>.', 401);
    }
    const limit = await perToken.check(request);
    if (limit.exceeded) throw tooMany(reply, limit.retryAfterSeconds, 'requests with this token');
  };
}

/** 429 for an address that has used up its failed authentications for now. */
export async function refuseWhileGuessing(access: ManagerAccess, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const failures = await access.authFailures.peek(request);
  if (failures.exceeded) throw tooMany(reply, failures.retryAfterSeconds, 'failed authentications');
}

/** Counts one failed authentication; the one that passes the limit is already answered with 429. */
export async function countFailedAuthentication(access: ManagerAccess, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  const failures = await access.authFailures.check(request);
  if (failures.exceeded) throw tooMany(reply, failures.retryAfterSeconds, 'failed authentications');
}

/** The per-token limit's key: a fingerprint, so the token itself is never stored in Redis. */
export function tokenKey(request: FastifyRequest): string {
  return ManagerTokens.fingerprint(bearerToken(request.headers.authorization) ?? '');
}

function tooMany(reply: FastifyReply, retryAfterSeconds: number, what: string): AppError {
  reply.header('retry-after', String(retryAfterSeconds));
  return rateLimited(retryAfterSeconds, what);
}

/**
 * The configured manager tokens. Without any (allowed outside production only) the service starts
 * so its reads and docs can be looked at, but accepts no manager request: it holds a random token
 * that is never shown, rather than one each replica would make up and write to its logs.
 */
export function configuredManagerTokens(config: OrdersConfig, log: FastifyBaseLogger): ManagerTokens {
  const tokens = managerTokensOf(config);
  if (tokens.length > 0) return new ManagerTokens(tokens);
  log.warn('MANAGER_TOKENS is not set: placing orders and the live view answer 401 until it is (pnpm start sets one)');
  return new ManagerTokens([randomBytes(32).toString('base64url')]);
}
