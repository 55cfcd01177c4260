import { Redis } from 'ioredis';
import pg from 'pg';
import { dockerAnswers, startStoreContainers } from './store-containers.js';

/** The defaults of `testEnv` (src/test-stores.ts), read here at setup time, after any change below. */
const databaseUrlOf = () => process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const redisUrlOf = () => process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

async function postgresProblem(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    return undefined;
  } catch (error) {
    return (
      `PostgreSQL is not reachable at ${url} (${(error as Error).message}). ` +
      'Start it, or set DATABASE_URL to a server where the user may create databases.'
    );
  } finally {
    await client.end().catch(() => {});
  }
}

async function redisProblem(url: string): Promise<string | undefined> {
  const redis = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, connectTimeout: 3000, retryStrategy: () => null });
  redis.on('error', () => {});
  try {
    await redis.connect();
    await redis.ping();
    return undefined;
  } catch (error) {
    return `Redis is not reachable at ${url} (${(error as Error).message}). Start it, or set REDIS_URL.`;
  } finally {
    redis.disconnect();
  }
}

/**
 * Makes sure PostgreSQL and Redis answer before any test runs. When one does not and a Docker engine
 * does, it starts that store with testcontainers and points DATABASE_URL / REDIS_URL at it: the test
 * workers, started after the global setup, inherit the environment (TEST_CONTAINERS=never turns this
 * off). Otherwise the run fails at once, with the fix, instead of every test timing out on its own.
 */
export default async function checkServices(): Promise<(() => Promise<void>) | undefined> {
  const [postgres, redis] = await Promise.all([postgresProblem(databaseUrlOf()), redisProblem(redisUrlOf())]);
  if (!postgres && !redis) return undefined;
  const problems = [postgres, redis].filter(Boolean).join(' ');
  if (process.env.TEST_CONTAINERS === 'never' || !(await dockerAnswers())) {
    throw new Error(`${problems} (No Docker engine answered either, for testcontainers to start them.)`);
  }
  const started = performance.now();
  const containers = await startStoreContainers({ postgres: Boolean(postgres), redis: Boolean(redis) });
  if (containers.databaseUrl) process.env.DATABASE_URL = containers.databaseUrl;
  if (containers.redisUrl) process.env.REDIS_URL = containers.redisUrl;
  console.info(
    `[global-setup] started with testcontainers in ${Math.round(performance.now() - started)} ms: ` +
      [containers.databaseUrl && `PostgreSQL at ${containers.databaseUrl}`, containers.redisUrl && `Redis at ${containers.redisUrl}`].filter(Boolean).join(', '),
  );
  return () => containers.stop();
}
