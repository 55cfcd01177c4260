import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import type { BaseConfig } from './config.js';
import { loggerOptions } from './logger.js';
import { kitPlugin } from './plugins/kit.js';
import { postgresPlugin } from './plugins/postgres.js';
import { redisPlugin } from './plugins/redis.js';
import { securityPlugin, type CspSources } from './plugins/security.js';

/** What sets one Free Lunch service apart from the others at the foundation. */
export interface ServiceIdentity {
  /** e.g. `kitchen-app`: in every log line, metric and the OpenAPI title. */
  service: string;
  /** One paragraph for the OpenAPI document. */
  description: string;
  /** The PostgreSQL schema the service owns inside DATABASE_URL's database. */
  schema: string;
  /** The service's folder (`new URL('..', import.meta.url)` from its src): holds package.json and migrations/. */
  root: URL;
  /** Sources the service's own pages load from besides itself (the dashboard reads other services). */
  csp?: CspSources;
}

/**
 * The foundation every service stands on, in order: a Fastify app logging with pino, with server
 * timeouts and a body limit; security headers, CORS and rate limits (see securityPlugin); the HTTP kit
 * (errors, OpenAPI, /health, /ready checking PostgreSQL and Redis, /metrics), its PostgreSQL schema
 * migrated, and Redis. The service then registers its routes and background work on it.
 */
export async function createServiceApp(
  config: BaseConfig,
  identity: ServiceIdentity,
): Promise<FastifyInstance> {
  const { version } = JSON.parse(readFileSync(new URL('package.json', identity.root), 'utf8')) as { version: string };
  const app = Fastify({
    logger: loggerOptions(config, identity.service),
    trustProxy: trustedProxies(config.TRUST_PROXY),
    bodyLimit: config.BODY_LIMIT_BYTES,
    // A client has this long to send a whole request (slow-loris), and an idle keep-alive
    // connection lasts a little longer than the load balancer's (60 s), which must close first.
    requestTimeout: config.REQUEST_TIMEOUT_MS,
    keepAliveTimeout: config.KEEP_ALIVE_TIMEOUT_MS,
    connectionTimeout: config.KEEP_ALIVE_TIMEOUT_MS + 30_000,
  });
  // First, so its headers, CORS and limits cover every route registered after it.
  await app.register(securityPlugin, {
    corsOrigins: config.CORS_ORIGINS,
    redisUrl: config.REDIS_URL,
    keyPrefix: config.KEY_PREFIX,
    readsPerMinute: config.RATE_LIMIT_READS_PER_MINUTE,
    ...(identity.csp ? { csp: identity.csp } : {}),
  });
  await app.register(kitPlugin, {
    service: identity.service,
    description: identity.description,
    version,
    readinessChecks: { postgres: () => app.pg.query('SELECT 1'), redis: () => app.redis.ping() },
  });
  await app.register(postgresPlugin, {
    connectionString: config.DATABASE_URL,
    migrationConnectionString: config.MIGRATION_DATABASE_URL,
    schema: identity.schema,
    migrationsDir: fileURLToPath(new URL('migrations', identity.root)),
    poolSize: config.DB_POOL_SIZE,
    readPoolSize: config.READ_POOL_SIZE,
    readStatementTimeoutMs: config.READ_STATEMENT_TIMEOUT_MS,
    applicationName: identity.service,
  });
  await app.register(redisPlugin, { url: config.REDIS_URL });
  return app;
}

/** TRUST_PROXY as Fastify takes it: a hop count becomes "trust the nearest n hops". */
function trustedProxies(setting: BaseConfig['TRUST_PROXY']): boolean | string[] | ((address: string, hop: number) => boolean) {
  if (typeof setting === 'number') return (_address, hop) => hop < setting;
  return setting;
}
