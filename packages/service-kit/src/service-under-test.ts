import type { FastifyInstance } from 'fastify';
import { Redis } from 'ioredis';
import pg from 'pg';
import type { z } from 'zod';
import { parseConfig } from './config.js';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix, type TestDatabase } from './test-stores.js';

/** What a test may set when it starts a service: each app's `start<App>UnderTest(options)` takes these. */
export interface UnderTestOptions {
  /** The test's environment on top of the app's test defaults, e.g. `{ COOK_TIME_MS: '0' }`. */
  env?: Record<string, string>;
  /** How the service reaches its database, given each of its URLs; e.g. through a proxy. */
  databaseUrl?: (url: string) => string;
}

/** What sets one service apart when it is started under test. */
export interface ServiceUnderTestOptions<Schema extends z.ZodType> extends UnderTestOptions {
  /** The PostgreSQL schema the service owns; its owner and app roles are provisioned as in production. */
  schema: string;
  /** The service's config schema and its `buildApp`: the two steps its server.ts takes. */
  config: Schema;
  buildApp: (config: z.infer<Schema>) => Promise<FastifyInstance>;
  /** Environment every instance of the app gets in tests (`env` comes on top). */
  defaults?: Record<string, string>;
}

/** One service under test: built as server.ts builds it, on a database and key prefix of its own. */
export interface ServiceUnderTest<Config> {
  /** The service: the first instance started, or the one `start()` started again. */
  readonly app: FastifyInstance;
  /** The config `app` was built with. */
  readonly config: Config;
  /** The PostgreSQL schema it owns. */
  readonly schema: string;
  /** Its database; `database.url` is the admin's, for a test to look at or change anything. */
  readonly database: TestDatabase;
  /** The prefix of every Redis key it uses. */
  readonly keyPrefix: string;
  /** A connection of the test's own to the shared Redis, for reading and writing this service's keys. */
  readonly redis: Redis;
  /** Stops `app`, as a process stopping would; its database and keys stay. */
  stop(): Promise<void>;
  /** Starts `app` anew (after `stop()`) on the same database and key prefix. */
  start(): Promise<void>;
  /** Starts another replica on the same database and key prefix; `env` comes on top of the test's. */
  startReplica(env?: Record<string, string>): Promise<FastifyInstance>;
  stopReplica(replica: FastifyInstance): Promise<void>;
  /** Runs `sql` in the service's schema as its owner (the app's role may not change the schema). */
  asSchemaOwner(sql: string): Promise<void>;
  /** Runs `cleanUp` when the service is closed, before its database is dropped (last registered, first run). */
  onClose(cleanUp: () => Promise<unknown>): void;
  /** Stops every instance, runs what `onClose` registered, deletes the keys and drops the database. */
  close(): Promise<void>;
}

/**
 * Starts a service exactly as its server.ts does (environment → parseConfig → buildApp → ready) on
 * a fresh database, provisioned with the service's own roles, and a fresh key prefix. Each app's
 * `test/support/<app>.ts` wraps this with its defaults and the few helpers its tests share.
 */
export async function startServiceUnderTest<Schema extends z.ZodType>(
  options: ServiceUnderTestOptions<Schema>,
): Promise<ServiceUnderTest<z.infer<Schema>>> {
  const database = await createTestDatabase();
  const keyPrefix = testKeyPrefix();
  const redis = new Redis(testEnv.redisUrl);
  const cleanUps: Array<() => Promise<unknown>> = [];
  const running: FastifyInstance[] = [];
  const through = options.databaseUrl ?? ((url: string) => url);
  const roles = await database.serviceEnv(options.schema);

  const configFor = (env: Record<string, string> = {}): z.infer<Schema> =>
    parseConfig(options.config, {
      DATABASE_URL: through(roles.DATABASE_URL),
      MIGRATION_DATABASE_URL: through(roles.MIGRATION_DATABASE_URL),
      REDIS_URL: testEnv.redisUrl,
      KEY_PREFIX: keyPrefix,
      LOG_LEVEL: 'silent',
      ...options.defaults,
      ...options.env,
      ...env,
    });
  const launch = async (config: z.infer<Schema>): Promise<FastifyInstance> => {
    const app = await options.buildApp(config);
    running.push(app);
    try {
      await app.ready();
    } catch (error) {
      running.splice(running.indexOf(app), 1);
      await app.close().catch(() => undefined);
      throw error;
    }
    return app;
  };
  const halt = async (app: FastifyInstance): Promise<void> => {
    const index = running.indexOf(app);
    if (index < 0) return;
    running.splice(index, 1);
    await app.close();
  };
  const closeStores = async () => {
    for (const cleanUp of cleanUps.splice(0).reverse()) await cleanUp();
    await deleteTestKeys(keyPrefix, redis);
    await redis.quit();
    await database.drop();
  };

  const config = configFor();
  let app: FastifyInstance;
  try {
    app = await launch(config);
  } catch (error) {
    await closeStores();
    throw error;
  }
  return {
    get app() {
      return app;
    },
    config,
    schema: options.schema,
    database,
    keyPrefix,
    redis,
    stop: () => halt(app),
    async start() {
      app = await launch(config);
    },
    startReplica: (env) => launch(configFor(env)),
    stopReplica: halt,
    async asSchemaOwner(sql) {
      const owner = new pg.Client({ connectionString: roles.MIGRATION_DATABASE_URL, options: `-c search_path=${options.schema}` });
      await owner.connect();
      try {
        await owner.query(sql);
      } finally {
        await owner.end();
      }
    },
    onClose(cleanUp) {
      cleanUps.push(cleanUp);
    },
    async close() {
      for (const instance of running.splice(0).reverse()) await instance.close();
      await closeStores();
    },
  };
}

/** A table's columns (name, type, not null, default) and primary key, as PostgreSQL holds them. */
export interface TableDefinition {
  columns: Array<{ name: string; type: string; notNull: boolean; default: string | null }>;
  primaryKey: string[];
}

/**
 * Starts a service, and answers the definition its migrations gave `table` in its schema next to
 * that of the table `createTableSql` creates (made in a scratch schema of the same database): equal
 * when the migrations made the table a shared library is written for. Sequence names in defaults
 * are left out, as they differ by schema.
 */
export async function compareTableDefinitions(
  start: () => Promise<ServiceUnderTest<unknown>>,
  { table, createTableSql }: { table: string; createTableSql: string },
): Promise<{ migrated: TableDefinition; expected: TableDefinition }> {
  const service = await start();
  const client = new pg.Client({ connectionString: service.database.url });
  const scratch = `expected_${table}`;
  try {
    await client.connect();
    await client.query(`CREATE SCHEMA ${scratch}`);
    await client.query(`SET search_path TO ${scratch}`);
    await client.query(createTableSql);
    return { migrated: await tableDefinition(client, service.schema, table), expected: await tableDefinition(client, scratch, table) };
  } finally {
    await client.end().catch(() => undefined);
    await service.close();
  }
}

async function tableDefinition(client: pg.Client, schema: string, table: string): Promise<TableDefinition> {
  const { rows: columns } = await client.query<TableDefinition['columns'][number]>(
    `SELECT a.attname AS name, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS "notNull",
            regexp_replace(pg_get_expr(d.adbin, d.adrelid), 'nextval\\(''[^'']+''::regclass\\)', 'nextval(sequence)') AS default
       FROM pg_attribute a
       LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
      WHERE a.attrelid = format('%I.%I', $1::text, $2::text)::regclass AND a.attnum > 0 AND NOT a.attisdropped
      ORDER BY a.attnum`,
    [schema, table],
  );
  const { rows: key } = await client.query<{ name: string }>(
    `SELECT a.attname AS name
       FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey)
      WHERE i.indrelid = format('%I.%I', $1::text, $2::text)::regclass AND i.indisprimary
      ORDER BY array_position(i.indkey::int2[], a.attnum)`,
    [schema, table],
  );
  return { columns, primaryKey: key.map(({ name }) => name) };
}
