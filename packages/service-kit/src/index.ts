/**
 * What every Free Lunch service shares: typed configuration, logging, the application error,
 * the HTTP kit (validation, JSON errors, OpenAPI, health, readiness, metrics), the PostgreSQL and
 * Redis plugins, the lifecycle of background work and its one loop, graceful start and stop, and
 * stream metrics.
 *
 * A service's `buildApp(config)` calls {@link createServiceApp} (kit, PostgreSQL, Redis), registers
 * its routes, then its consumers and workers with {@link registerBackground}; its `server.ts` is
 * `runServer(() => buildApp(parseConfig(...)))`.
 */
export { BaseConfig, ConfigError, parseConfig, port, type ConfigIssue } from './config.js';
export { AppError, type AppErrorOptions } from './app-error.js';
export { loggerOptions } from './logger.js';
export { kitPlugin, type KitOptions } from './plugins/kit.js';
export type { ReadinessCheck } from './plugins/health.js';
export { postgresPlugin, type PostgresOptions } from './plugins/postgres.js';
export { redisPlugin } from './plugins/redis.js';
export { runServer } from './run-server.js';
export { registerBackground, type Background, type BackgroundRelay, type BackgroundTask } from './background.js';
export { Loop, Wakeup, type LoopLogger, type LoopOptions } from './loop.js';
export { provisionRedisUsers, redisAccess, redisAclRules, removeRedisUsers } from './redis-users.js';
export { provisionDatabase, serviceDatabaseEnv, serviceRoles, urlAs, type ProvisionOptions, type ServiceRoles } from './provision.js';
export { SharedRead } from './shared-read.js';
export { securityPlugin, manualLimit, rateLimited, clientAddress, type CspSources, type ManualLimit, type LimitState } from './plugins/security.js';
export { createServiceApp, type ServiceIdentity } from './service-app.js';
export {
  deadLetterMetrics,
  streamBacklogMetrics,
  streamMetrics,
  type DeadLetterCount,
  type StreamBacklog,
  type StreamMetrics,
} from './stream-metrics.js';
/** One SQL transaction on one pooled connection; every multi-row change goes through it. */
export { inTransaction } from './transaction.js';
/** Whether a failed transaction may be run again: retry, commit outcome unknown, or refused. */
export { classifyDatabaseError, isTransientDatabaseError, type DatabaseErrorKind } from './database-errors.js';
