import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { BaseConfig, port, postgresPlugin, redisPlugin } from '../src/index.js';
import { compareTableDefinitions, eventually, startServiceUnderTest, testEnv, type ServiceUnderTest } from '../src/testing.js';

const migrationsDir = fileURLToPath(new URL('./fixtures/migrations', import.meta.url));
const DishesConfig = BaseConfig.extend({ PORT: port(3999) });

/** A service of one table (fixtures/migrations), wired as a real service's buildApp wires PostgreSQL and Redis. */
function startDishesUnderTest(): Promise<ServiceUnderTest<BaseConfig>> {
  return startServiceUnderTest({
    schema: 'dishes',
    config: DishesConfig,
    async buildApp(config) {
      const app = Fastify();
      await app.register(postgresPlugin, {
        connectionString: config.DATABASE_URL,
        migrationConnectionString: config.MIGRATION_DATABASE_URL,
        schema: 'dishes',
        migrationsDir,
      });
      await app.register(redisPlugin, { url: config.REDIS_URL });
      return app;
    },
  });
}

async function databaseExists(name: string): Promise<boolean> {
  const admin = new pg.Client({ connectionString: testEnv.databaseUrl });
  await admin.connect();
  try {
    return (await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await admin.end();
  }
}

describe('a service under test', () => {
  it('when started, then it runs migrated, as its app role, on a database and key prefix of its own; when closed, then both are gone', async () => {
    const dishes = await startDishesUnderTest();
    const { rows } = await dishes.app.pg.query<{ role: string; dishes: number }>(
      'SELECT current_user AS role, (SELECT count(*)::int FROM dishes) AS dishes',
    );
    expect(rows[0]!.role).toBe('fl_dishes_app');
    expect(dishes.config.KEY_PREFIX).toBe(dishes.keyPrefix);
    await dishes.app.redis.set(`${dishes.keyPrefix}menu`, 'soup');

    await dishes.close();

    expect(await databaseExists(dishes.database.name)).toBe(false);
    const redis = new (await import('ioredis')).Redis(testEnv.redisUrl);
    expect(await redis.exists(`${dishes.keyPrefix}menu`)).toBe(0);
    redis.disconnect();
  });

  it('when stopped and started again, or given a replica, then each instance works on the same database', async () => {
    const dishes = await startDishesUnderTest();
    try {
      await dishes.app.pg.query("INSERT INTO dishes (name) VALUES ('stew')");
      await dishes.stop();
      await dishes.start();
      const replica = await dishes.startReplica();
      for (const app of [dishes.app, replica]) {
        expect((await app.pg.query<{ name: string }>("SELECT name FROM dishes WHERE name = 'stew'")).rows).toHaveLength(1);
      }
    } finally {
      await dishes.close();
    }
  });

  it('when a migrated table differs from the one its library expects, then the definitions compared differ, and match when it does not', async () => {
    const same = await compareTableDefinitions(startDishesUnderTest, {
      table: 'dishes',
      createTableSql: 'CREATE TABLE dishes (id serial PRIMARY KEY, name text NOT NULL)',
    });
    expect(same.migrated).toEqual(same.expected);

    const other = await compareTableDefinitions(startDishesUnderTest, {
      table: 'dishes',
      createTableSql: 'CREATE TABLE dishes (id serial PRIMARY KEY, name varchar(40))',
    });
    expect(other.migrated).not.toEqual(other.expected);
  });
});

describe('eventually', () => {
  it('when the check passes after failing, then it answers what the check returned', async () => {
    let tries = 0;
    const value = await eventually('the third try', () => {
      tries += 1;
      if (tries < 3) throw new Error('not yet');
      return 'done';
    });
    expect(value).toBe('done');
  });

  it('when the check answers false, then it tries again', async () => {
    let tries = 0;
    await eventually('the second try', () => (tries += 1) >= 2);
    expect(tries).toBe(2);
  });

  it('when the check never passes, then it fails naming what it waited for and the last failure', async () => {
    const failure = eventually('the soup to boil', () => expect('cold').toBe('boiling'), { timeoutMs: 100 });
    await expect(failure).rejects.toThrow(/timed out after 100 ms .*waiting for the soup to boil; last failure: .*expected 'cold' to be 'boiling'/);
  });

  it('when a test holds the timers still, then it waits in real time and leaves them where they were', async () => {
    const realNow = Date.now;
    vi.useFakeTimers();
    try {
      const fired = vi.fn();
      setTimeout(fired, 1_000);
      const started = realNow();
      await expect(eventually('nothing', () => false, { timeoutMs: 60 })).rejects.toThrow(/nothing/);
      expect(realNow() - started).toBeGreaterThanOrEqual(50);
      expect(fired).not.toHaveBeenCalled();
    } finally {
      vi.useRealTimers();
    }
  });
});
