import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import rateLimit, { normalizeIP } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Redis } from 'ioredis';
import { AppError } from '../app-error.js';

/** Extra Content-Security-Policy sources a service's pages need, by directive (`connect-src`, …). */
export type CspSources = Partial<Record<'connect-src' | 'img-src' | 'style-src' | 'script-src', string[]>>;

export interface SecurityOptions {
  /** Origins besides the service's own that browsers may read it from; never `*`. */
  corsOrigins: string[];
  /** Where rate-limit counters live: the Redis every replica shares, so they count together. */
  redisUrl: string;
  /** Prefix of the counters' keys (the service's KEY_PREFIX). */
  keyPrefix: string;
  /** Public reads (GET, HEAD) one client address may make per minute. */
  readsPerMinute: number;
  /** Sources the service's own pages load from besides itself. */
  csp?: CspSources;
}

/** Health checks and scrapes come from the platform, often, and must never be refused. */
const UNLIMITED_ROUTES = new Set(['/health', '/ready', '/metrics']);

const ONE_MINUTE_MS = 60_000;

/**
 * What keeps a service's HTTP side safe to put on the internet: security headers with a strict
 * Content-Security-Policy, CORS for the configured origins only, and per-address limits on public
 * reads counted in Redis (so every replica behind the load balancer shares one count). It also
 * offers `app.createRateLimit` for the stricter limits a service puts on its own routes.
 *
 * Limits fail open when Redis cannot be reached: a Redis outage already stops the pipeline, and
 * refusing the manager's requests then would only add to it. Each check waits at most
 * {@link LIMIT_CHECK_TIMEOUT_MS} for Redis.
 */
export const securityPlugin = fp<SecurityOptions>(
  async (app, options) => {
    const extra = options.csp ?? {};
    await app.register(helmet, {
      contentSecurityPolicy: {
        useDefaults: true,
        directives: {
          'default-src': ["'self'"],
          'script-src': ["'self'", ...(extra['script-src'] ?? [])],
          'style-src': ["'self'", ...(extra['style-src'] ?? [])],
          'img-src': ["'self'", 'data:', ...(extra['img-src'] ?? [])],
          'connect-src': ["'self'", ...(extra['connect-src'] ?? [])],
          'frame-ancestors': ["'none'"],
          'form-action': ["'self'"],
          // Served over plain HTTP locally; behind the load balancer everything is HTTPS already.
          'upgrade-insecure-requests': null,
        },
      },
      // The dashboard on another port (or host) reads these services with CORS requests.
      crossOriginResourcePolicy: { policy: 'same-site' },
    });

    await app.register(cors, {
      // A function rather than the list, so an origin not on it gets no CORS headers at all.
      origin: (origin, callback) => callback(null, origin !== undefined && options.corsOrigins.includes(origin)),
      methods: ['GET', 'HEAD', 'POST'],
      allowedHeaders: ['authorization', 'content-type', 'idempotency-key'],
      exposedHeaders: ['retry-after', 'x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset'],
      maxAge: 600,
    });

    // A connection of its own that never queues: while Redis is away a check fails at once and
    // the request goes on, instead of waiting behind the consumers' reconnection.
    const redis = new Redis(options.redisUrl, {
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 1000,
      commandTimeout: LIMIT_CHECK_TIMEOUT_MS,
      lazyConnect: false,
    });
    redis.on('error', (error) => app.log.debug({ err: error }, 'rate-limit redis connection error'));
    app.addHook('onClose', async () => {
      redis.disconnect();
    });

    await app.register(rateLimit, {
      global: true,
      max: options.readsPerMinute,
      timeWindow: ONE_MINUTE_MS,
      redis,
      nameSpace: `${options.keyPrefix}rate-limit:`,
      skipOnError: true,
      keyGenerator: clientAddress,
      // Only reads are counted here: the routes that change something carry stricter limits of their own.
      allowList: (request) =>
        (request.method !== 'GET' && request.method !== 'HEAD') || UNLIMITED_ROUTES.has(request.routeOptions.url ?? ''),
      errorResponseBuilder: (_request, context) => rateLimited(Math.ceil(context.ttl / 1000)),
    });
  },
  { name: 'free-lunch-security', fastify: '5.x' },
);

/** How long a rate-limit check may wait for Redis before the request goes on unchecked. */
export const LIMIT_CHECK_TIMEOUT_MS = 250;

/** The error a client over a limit gets: 429, and when to come back. */
export function rateLimited(retryAfterSeconds: number, what = 'requests'): AppError {
  return new AppError(
    'rate_limited',
    `Too many ${what}; try again in ${Math.max(1, retryAfterSeconds)} s (Retry-After).`,
    429,
  );
}

/**
 * A named limit a route checks by hand: `check` counts one more event for the request's key and
 * says whether it is over; `peek` only reads. Used where one request may meet several limits
 * (failed authentications per address, then orders per token), which route-level limits cannot do.
 */
export interface ManualLimit {
  check(request: FastifyRequest): Promise<LimitState>;
  peek(request: FastifyRequest): Promise<LimitState>;
}

export interface LimitState {
  exceeded: boolean;
  retryAfterSeconds: number;
}

/**
 * The client's address as limits count it: the connection's, or with TRUST_PROXY the one the
 * trusted proxies saw; an IPv6 client by its /64, since one host usually holds the whole block.
 */
export function clientAddress(request: FastifyRequest): string {
  // A socket with no address (an injected request in tests, a connection already gone) counts as one client.
  return request.ip ? normalizeIP(request.ip, 64) : 'unknown';
}

/** A {@link ManualLimit} of `max` events per minute per `key(request)`. */
export function manualLimit(
  app: FastifyInstance,
  name: string,
  max: number,
  key: (request: FastifyRequest) => string,
): ManualLimit {
  const limiter = app.createRateLimit({
    max,
    timeWindow: ONE_MINUTE_MS,
    keyGenerator: (request) => `${name}:${key(request)}`,
    // Not the public reads' exemptions: whoever calls this limit wants it counted.
    allowList: [],
  });
  const state = async (request: FastifyRequest, increment: boolean): Promise<LimitState> => {
    const result = await limiter(request, { increment });
    if (result.isAllowed) return { exceeded: false, retryAfterSeconds: 0 };
    // A peek is over the limit once it has been reached; a check once it has been passed.
    const exceeded = increment ? result.isExceeded : result.remaining <= 0 && result.ttl > 0;
    return { exceeded, retryAfterSeconds: Math.max(1, result.ttlInSeconds) };
  };
  return { check: (request) => state(request, true), peek: (request) => state(request, false) };
}
