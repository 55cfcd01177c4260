/**
 * What the services' tests share (`@free-lunch/service-kit/testing`): a database and key prefix of
 * each test's own against the real PostgreSQL and Redis, the one way to start a service under test,
 * the one way to wait for what happens in the background, proxies that cut a store away, and the
 * property-based fuzzing of routes and consumed streams.
 */
export {
  createTestDatabase,
  deleteTestKeys,
  inRolledBackTransaction,
  LOOKUP_BATCH,
  rowsReadBy,
  rowsReadByBatchLookups,
  testEnv,
  testKeyPrefix,
  type BatchLookupOptions,
  type TestDatabase,
} from './test-stores.js';
export { serviceDatabaseEnv } from './provision.js';
export {
  compareTableDefinitions,
  startServiceUnderTest,
  type ServiceUnderTest,
  type ServiceUnderTestOptions,
  type TableDefinition,
  type UnderTestOptions,
} from './service-under-test.js';
export { eventually, type EventuallyOptions } from './eventually.js';
export { PostgresProxy } from './postgres-proxy.js';
export { RedisProxy } from './redis-proxy.js';
export * from './fuzz-testing.js';
