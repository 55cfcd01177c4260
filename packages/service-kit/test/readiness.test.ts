import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { kitPlugin, postgresPlugin, redisPlugin } from '../src/index.js';
import { createTestDatabase, testEnv, type TestDatabase } from '../src/testing.js';

const migrationsDir = fileURLToPath(new URL('./fixtures/migrations', import.meta.url));

let database: TestDatabase | undefined;
let app: FastifyInstance | undefined;
afterEach(async () => {
  await app?.close();
  await database?.drop();
  app = database = undefined;
});

/** Wired the way a service's buildApp wires it: kit first, then PostgreSQL and Redis. */
async function buildService(redisUrl: string): Promise<FastifyInstance> {
  database = await createTestDatabase();
  const service = Fastify();
  await service.register(kitPlugin, {
    service: 'kitchen',
    description: 'test',
    version: '0.0.0',
    readinessTimeoutMs: 1000,
    readinessChecks: {
      postgres: () => service.pg.query('SELECT 1'),
      redis: () => service.redis.ping(),
    },
  });
  await service.register(postgresPlugin, { connectionString: database.url, schema: 'kitchen', migrationsDir });
  await service.register(redisPlugin, { url: redisUrl });
  await service.ready();
  return service;
}

describe('readiness with real PostgreSQL and Redis', () => {
  it('when PostgreSQL and Redis answer, then /ready is 200', async () => {
    app = await buildService(testEnv.redisUrl);
    await app.redis.ping();

    const response = await app.inject({ method: 'GET', url: '/ready' });

    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ready', checks: { postgres: true, redis: true } });
  });

  it('when Redis is unreachable, then /ready is 503 and names redis', async () => {
    app = await buildService('redis://127.0.0.1:1');

    const response = await app.inject({ method: 'GET', url: '/ready' });

    expect(response.statusCode).toBe(503);
    expect(response.json()).toEqual({ status: 'not_ready', checks: { postgres: true, redis: false } });
  });

  it('when PostgreSQL goes away, then /ready is 503 and names postgres', async () => {
    app = await buildService(testEnv.redisUrl);
    await database!.drop(); // terminates the pool's connections and removes the database

    const response = await app.inject({ method: 'GET', url: '/ready' });

    expect(response.statusCode).toBe(503);
    expect(response.json().checks).toEqual({ postgres: false, redis: true });
  });
});
