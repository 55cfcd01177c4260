import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { postgresPlugin } from '../src/index.js';
import { createTestDatabase, testEnv, type TestDatabase } from '../src/testing.js';

const migrationsDir = fileURLToPath(new URL('./fixtures/migrations', import.meta.url));

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function useDatabase(): Promise<TestDatabase> {
  const database = await createTestDatabase();
  cleanups.push(() => database.drop());
  return database;
}

async function startApp(connectionString: string, schema = 'kitchen', applicationName?: string): Promise<FastifyInstance> {
  const app = Fastify();
  await app.register(postgresPlugin, { connectionString, schema, migrationsDir, poolSize: 2, applicationName });
  cleanups.push(() => app.close());
  await app.ready();
  return app;
}

/** Reads `sql` from the test database with a connection of its own, outside the app's pool. */
async function inspect<T extends pg.QueryResultRow>(connectionString: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

describe('postgresPlugin', () => {
  it('when the schema is new, then it is created and every migration runs inside it', async () => {
    const database = await useDatabase();
    await startApp(database.url);

    const tables = await inspect<{ table_schema: string; table_name: string }>(
      database.url,
      `SELECT table_schema, table_name FROM information_schema.tables WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY table_name`,
    );
    expect(tables).toEqual([
      { table_schema: 'kitchen', table_name: 'dishes' },
      { table_schema: 'kitchen', table_name: 'pgmigrations' },
    ]);
    const applied = await inspect<{ name: string }>(database.url, 'SELECT name FROM kitchen.pgmigrations ORDER BY id');
    expect(applied.map((row) => row.name)).toEqual(['001_create-dishes', '002_seed-dishes']);
  });

  it('when the app queries unqualified table names, then they are found in its schema', async () => {
    const database = await useDatabase();
    const app = await startApp(database.url);

    const { rows } = await app.pg.query<{ name: string; schema: string }>('SELECT name, current_schema() AS schema FROM dishes');
    expect(rows).toEqual([{ name: 'pizza', schema: 'kitchen' }]);
  });

  it('when the server drops a connection the app holds, then only that connection is lost: the process carries on and the pool serves the next query', async () => {
    const database = await useDatabase();
    const app = await startApp(database.url);
    const client = await app.pg.connect();
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const ended = new Promise((resolve) => client.once('end', resolve));

    // As a restart or failover does; the client is checked out, where the pool does not listen for its errors.
    await inspect(database.url, `SELECT pg_terminate_backend(${rows[0]!.pid})`);
    await ended;

    await expect(client.query('SELECT 1')).rejects.toThrow();
    client.release(true);
    expect((await app.pg.query<{ one: number }>('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
  });

  it('when the service names itself, then its sessions carry that name for pg_stat_activity', async () => {
    const database = await useDatabase();
    const app = await startApp(database.url, 'kitchen', 'kitchen-app');

    const { rows } = await app.pg.query<{ name: string }>('SELECT application_name AS name FROM pg_stat_activity WHERE pid = pg_backend_pid()');
    expect(rows).toEqual([{ name: 'kitchen-app' }]);
  });

  it('when the database does not exist yet, then it is created', async () => {
    const name = `fl_test_missing_${process.pid}_${Date.now()}`;
    const url = new URL(testEnv.databaseUrl);
    url.pathname = `/${name}`;
    cleanups.push(async () => {
      await inspect(testEnv.databaseUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    });

    const app = await startApp(url.toString());

    const { rows } = await app.pg.query<{ database: string }>('SELECT current_database() AS database');
    expect(rows).toEqual([{ database: name }]);
  });

  it('when the app starts again, then applied migrations are not run twice', async () => {
    const database = await useDatabase();
    const first = await startApp(database.url);
    await first.close();

    const second = await startApp(database.url);

    const { rows } = await second.pg.query('SELECT name FROM dishes');
    expect(rows).toHaveLength(1);
  });

  it('when two replicas start on the same database at once, then both start and each migration runs once', async () => {
    const database = await useDatabase();

    const [first, second] = await Promise.all([startApp(database.url), startApp(database.url)]);

    const applied = await inspect<{ name: string }>(database.url, 'SELECT name FROM kitchen.pgmigrations');
    expect(applied).toHaveLength(2);
    const dishes = await inspect(database.url, 'SELECT name FROM kitchen.dishes');
    expect(dishes).toHaveLength(1);
    expect((await first.pg.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
    expect((await second.pg.query('SELECT 1 AS ok')).rows).toEqual([{ ok: 1 }]);
  });

  it('when two services share one database, then each gets its own schema and migrations table', async () => {
    const database = await useDatabase();

    await Promise.all([startApp(database.url, 'kitchen'), startApp(database.url, 'inventory')]);

    const schemas = await inspect<{ table_schema: string }>(
      database.url,
      `SELECT DISTINCT table_schema FROM information_schema.tables WHERE table_name = 'pgmigrations' ORDER BY 1`,
    );
    expect(schemas.map((row) => row.table_schema)).toEqual(['inventory', 'kitchen']);
  });

  it('when the app closes, then its pool is ended', async () => {
    const database = await useDatabase();
    const app = await startApp(database.url);
    await app.pg.query('SELECT 1');

    await app.close();

    expect(app.pg.ended).toBe(true);
    await expect(app.pg.query('SELECT 1')).rejects.toThrow();
  });

  it('when the schema name is not a plain identifier, then the app refuses to start', async () => {
    const database = await useDatabase();
    await expect(startApp(database.url, 'kitchen"; DROP TABLE x; --')).rejects.toThrow(/not a plain SQL identifier/);
  });
});
