import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { kitPlugin, postgresPlugin } from '../src/index.js';
import { createTestDatabase } from '../src/testing.js';

const migrationsDir = fileURLToPath(new URL('./fixtures/migrations', import.meta.url));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** The kit and PostgreSQL as a service has them, with one public read that takes `?seconds=` to answer. */
async function startApp(readStatementTimeoutMs: number): Promise<FastifyInstance> {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  const app = Fastify();
  await app.register(kitPlugin, { service: 'tiny', description: 'A tiny test service', version: '1.0.0' });
  await app.register(postgresPlugin, {
    connectionString: database.url,
    schema: 'kitchen',
    migrationsDir,
    poolSize: 2,
    readPoolSize: 1,
    readStatementTimeoutMs,
    applicationName: 'tiny',
  });
  app.get<{ Querystring: { seconds: string } }>('/slow-dishes', async (request) => {
    const { rows } = await app.pgReads.query('SELECT name, pg_sleep($1::float8) FROM dishes', [Number(request.query.seconds)]);
    return { dishes: rows.map((row: { name: string }) => row.name) };
  });
  cleanups.push(() => app.close());
  await app.ready();
  return app;
}

describe('the read pool (app.pgReads)', () => {
  it('when a public read queries, then it runs in the service schema on sessions of its own name', async () => {
    const app = await startApp(5_000);

    const { rows } = await app.pgReads.query<{ name: string; schema: string; app: string }>(
      `SELECT d.name, current_schema() AS schema, current_setting('application_name') AS app FROM dishes d`,
    );
    expect(rows).toEqual([{ name: 'pizza', schema: 'kitchen', app: 'tiny-reads' }]);
  });

  it('when a read runs past its statement timeout, then it answers 503 JSON with Retry-After and the app carries on', async () => {
    const app = await startApp(200);

    const slow = await app.inject({ method: 'GET', url: '/slow-dishes?seconds=2' });

    expect(slow.statusCode).toBe(503);
    expect(slow.headers['retry-after']).toBe('1');
    expect(slow.json()).toEqual({ error: 'read_timed_out', message: expect.any(String) });
    const quick = await app.inject({ method: 'GET', url: '/slow-dishes?seconds=0' });
    expect(quick.statusCode).toBe(200);
    expect(quick.json()).toEqual({ dishes: ['pizza'] });
  });

  it('when the consumers run long statements, then the main pool has no statement timeout', async () => {
    const app = await startApp(100);

    const { rows } = await app.pg.query<{ timeout: string }>(`SELECT current_setting('statement_timeout') AS timeout, pg_sleep(0.3)`);
    expect(rows[0]!.timeout).toBe('0');
  });

  it('when the app closes, then the read pool is ended too', async () => {
    const app = await startApp(5_000);
    await app.pgReads.query('SELECT 1');

    await app.close();

    expect(app.pgReads.ended).toBe(true);
  });
});
