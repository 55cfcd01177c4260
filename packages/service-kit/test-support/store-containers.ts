import { createServer } from 'node:net';

/**
 * PostgreSQL and Redis for the test suite from a Docker engine (testcontainers), for a machine that has
 * Docker and nothing else. Host networking on 127.0.0.1 at free ports (no bridge network, no port
 * mapping), PostgreSQL trusting local logins as on the project's machines; the images default to the ones scripts/container-base-images.sh makes, and the official
 * `postgres:15-alpine` / `redis:7-alpine` work as well (TEST_POSTGRES_IMAGE, TEST_REDIS_IMAGE).
 */
export interface StoreContainers {
  databaseUrl?: string;
  redisUrl?: string;
  stop(): Promise<void>;
}

const POSTGRES_IMAGE = process.env.TEST_POSTGRES_IMAGE ?? 'free-lunch-base/postgres:15';
const REDIS_IMAGE = process.env.TEST_REDIS_IMAGE ?? 'free-lunch-base/redis:7';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Whether a Docker engine answers; testcontainers fails in milliseconds when none does. */
export async function dockerAnswers(): Promise<boolean> {
  // Everything runs on the host's network: testcontainers need not look for the bridge's gateway
  // (an engine started with --bridge=none has none).
  process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';
  try {
    const { getContainerRuntimeClient } = await import('testcontainers');
    await getContainerRuntimeClient();
    return true;
  } catch {
    return false;
  }
}

export async function startStoreContainers(want: { postgres: boolean; redis: boolean }): Promise<StoreContainers> {
  // Ryuk, testcontainers' reaper, is an image from a public registry: the teardown removes them instead.
  process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
  const { GenericContainer, Wait } = await import('testcontainers');
  const healthy = { interval: 500, timeout: 3_000, retries: 120, startPeriod: 0 };
  const starting: Promise<{ stop(): Promise<unknown> } & { url: string; kind: 'postgres' | 'redis' }>[] = [];
  if (want.postgres) {
    const port = String(await freePort());
    starting.push(
      new GenericContainer(POSTGRES_IMAGE)
        .withNetworkMode('host')
        .withEnvironment({ POSTGRES_USER: 'postgres', POSTGRES_HOST_AUTH_METHOD: 'trust' })
        // As the project's machines run it: data need not survive, so no fsync.
        .withCommand(['postgres', '-c', 'listen_addresses=127.0.0.1', '-p', port, '-c', 'fsync=off', '-c', 'max_connections=300'])
        .withHealthCheck({ test: ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', port, '-U', 'postgres'], ...healthy })
        .withWaitStrategy(Wait.forHealthCheck())
        .withStartupTimeout(120_000)
        .start()
        .then((started) => Object.assign(started, { kind: 'postgres' as const, url: `postgres://postgres@127.0.0.1:${port}/postgres` })),
    );
  }
  if (want.redis) {
    const port = String(await freePort());
    starting.push(
      new GenericContainer(REDIS_IMAGE)
        .withNetworkMode('host')
        .withCommand(['redis-server', '--bind', '127.0.0.1', '--port', port, '--save', '', '--appendonly', 'no'])
        .withHealthCheck({ test: ['CMD', 'redis-cli', '-p', port, 'ping'], ...healthy })
        .withWaitStrategy(Wait.forHealthCheck())
        .withStartupTimeout(60_000)
        .start()
        .then((started) => Object.assign(started, { kind: 'redis' as const, url: `redis://127.0.0.1:${port}` })),
    );
  }
  const results = await Promise.allSettled(starting);
  const running = results.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const stop = async () => {
    await Promise.allSettled(running.map((container) => container.stop()));
  };
  const failed = results.find((result) => result.status === 'rejected');
  if (failed) {
    await stop();
    throw failed.reason;
  }
  return {
    databaseUrl: running.find(({ kind }) => kind === 'postgres')?.url,
    redisUrl: running.find(({ kind }) => kind === 'redis')?.url,
    stop,
  };
}
