import pg from 'pg';
import { Redis } from 'ioredis';
import { testEnv } from '../src/testing.js';

/**
 * Fails the run at once, with the fix, when PostgreSQL or Redis is not reachable, instead of
 * letting every test time out on its own.
 */
export default async function checkServices(): Promise<void> {
  const client = new pg.Client({ connectionString: testEnv.databaseUrl, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } catch (error) {
    throw new Error(
      `PostgreSQL is not reachable at ${testEnv.databaseUrl} (${(error as Error).message}). ` +
        'Start it, or set DATABASE_URL to a server where the user may create databases.',
    );
  } finally {
    await client.end().catch(() => {});
  }
  const redis = new Redis(testEnv.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000 });
  try {
    await redis.connect();
    await redis.ping();
  } catch (error) {
    throw new Error(
      `Redis is not reachable at ${testEnv.redisUrl} (${(error as Error).message}). Start it, or set REDIS_URL.`,
    );
  } finally {
    redis.disconnect();
  }
}
