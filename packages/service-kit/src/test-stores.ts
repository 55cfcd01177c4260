import { randomBytes } from 'node:crypto';
import { setTimeout as delay } from 'node:timers/promises';
import { Redis } from 'ioredis';
import pg from 'pg';
import { serviceDatabaseEnv } from './provision.js';

/** Where tests find PostgreSQL and Redis: the same variables the services read, with local defaults. */
export const testEnv = {
  databaseUrl: process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres',
  redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
};

/** A fresh, empty database for one test; `drop()` removes it (and ends anything still connected). */
export interface TestDatabase {
  /** The admin's URL: for a test to look at or change anything. */
  url: string;
  name: string;
  /**
   * The environment a service runs with in production, for its schema: DATABASE_URL as its app role
   * (read and write of its own tables only), MIGRATION_DATABASE_URL as the schema's owner. The
   * roles and the schema are provisioned on first use.
   */
  serviceEnv(schema: string): Promise<{ DATABASE_URL: string; MIGRATION_DATABASE_URL: string }>;
  drop(): Promise<void>;
}

/** How long `drop()` waits for connections still closing before it ends them. */
const DROP_GRACE_MS = 1_000;

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = `fl_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: testEnv.databaseUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(testEnv.databaseUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    serviceEnv: (schema) => serviceDatabaseEnv(url.toString(), schema),
    async drop() {
      const client = new pg.Client({ connectionString: testEnv.databaseUrl });
      await client.connect();
      try {
        // A pool's end() resolves before its connections have closed. Terminating one that is still
        // closing (FORCE) sends its client an error nobody listens for any more, which fails the
        // test run as an uncaught exception: give them a moment to go first.
        for (let waited = 0; waited < DROP_GRACE_MS; waited += 20) {
          const { rows } = await client.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if (rows[0]!.n === 0) break;
          await delay(20);
        }
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/** A Redis key prefix no other test uses, so tests share one Redis without seeing each other. */
export function testKeyPrefix(): string {
  return `t:${randomBytes(5).toString('hex')}:`;
}

/**
 * Removes every key under a test's prefix, so a run leaves the shared Redis as it found it. Uses
 * `redis` if given (left open), otherwise a connection of its own.
 */
export async function deleteTestKeys(prefix: string, redis?: Redis): Promise<void> {
  const client = redis ?? new Redis(testEnv.redisUrl);
  try {
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    if (!redis) client.disconnect();
  }
}

/**
 * How many rows `work` read from `table`: rows returned by sequential scans of it plus entries read
 * from its indexes. Tells a lookup of a batch by key (about one per row of the batch) from a scan of
 * every row, or of every row a partial index holds. `work` must run on `client`, inside a
 * transaction open on it: the counters read are the session's own, and are only reported (and
 * reset) between transactions.
 */
export async function rowsReadBy(client: pg.ClientBase, table: string, work: () => Promise<unknown>): Promise<number> {
  const readSoFar = async () => {
    const { rows } = await client.query<{ n: string }>(
      `SELECT pg_stat_get_xact_tuples_returned($1::regclass)
            + (SELECT coalesce(sum(pg_stat_get_xact_tuples_returned(indexrelid)), 0)
                 FROM pg_index WHERE indrelid = $1::regclass) AS n`,
      [table],
    );
    return Number(rows[0]!.n);
  };
  const before = await readSoFar();
  await work();
  return (await readSoFar()) - before;
}

/**
 * Runs `work` on one connection of `pool`, inside a transaction that is always rolled back: what it
 * writes is never seen by anyone else (the app's own loops included), and {@link rowsReadBy} can
 * count within it.
 */
export async function inRolledBackTransaction<T>(pool: pg.Pool, work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    return await work(client);
  } finally {
    await client.query('ROLLBACK');
    client.release();
  }
}

export interface BatchLookupOptions<Row> {
  pool: pg.Pool;
  /** The table the lookups read; rows read are counted on it and its indexes. */
  table: string;
  /** Inserts `count` fresh rows (inside the test's transaction) and answers them. */
  insert: (client: pg.PoolClient, count: number) => Promise<Row[]>;
  /**
   * What the service does with a batch, first on single rows of a table of a few rows, then on
   * batches of a table of a few hundred, as in the first seconds on a new database (a plan
   * PostgreSQL caches then would scan the table, and go on scanning it as it grows), then measured
   * on one batch of a table of thousands.
   */
  lookups: Record<string, (client: pg.PoolClient, batch: Row[]) => Promise<unknown>>;
  /** How the first rows are worked on; by default each of `lookups` in turn. */
  warmUp?: (client: pg.PoolClient, batch: Row[]) => Promise<unknown>;
  /** Checks what the lookups did to the measured batch, once they are measured. */
  afterwards?: (client: pg.PoolClient, batch: Row[]) => Promise<unknown>;
}

/** Rows in a measured batch, and in the table it is taken from. */
export const LOOKUP_BATCH = 100;
const LOOKUP_TABLE_ROWS = 20_000;

/**
 * How many rows each of `lookups` read for one batch of {@link LOOKUP_BATCH} rows in a table of
 * thousands (see {@link rowsReadBy}): about one or two a row when it looks its batch up by key,
 * thousands when it scans. All of it runs in one transaction, rolled back, which the service's own
 * loops never see.
 */
export async function rowsReadByBatchLookups<Row>(options: BatchLookupOptions<Row>): Promise<Record<string, number>> {
  return inRolledBackTransaction(options.pool, async (client) => {
    const warmUp =
      options.warmUp ??
      (async (client: pg.PoolClient, batch: Row[]) => {
        for (const lookup of Object.values(options.lookups)) await lookup(client, batch);
      });
    // PostgreSQL settles on a named statement's plan at its sixth run: first on a table of a few
    // rows, as on a new database, then of a few hundred.
    const tiny = await options.insert(client, 8);
    for (let call = 0; call < 8; call++) await warmUp(client, tiny.slice(call, call + 1));
    const first = await options.insert(client, 600);
    for (let call = 0; call < 8; call++) await warmUp(client, first.slice(call * 70, call * 70 + 70));

    const rows = await options.insert(client, LOOKUP_TABLE_ROWS);
    const batch = rows.slice(LOOKUP_TABLE_ROWS / 2, LOOKUP_TABLE_ROWS / 2 + LOOKUP_BATCH);
    const read: Record<string, number> = {};
    for (const [name, lookup] of Object.entries(options.lookups)) read[name] = await rowsReadBy(client, options.table, () => lookup(client, batch));
    await options.afterwards?.(client, batch);
    return read;
  });
}
