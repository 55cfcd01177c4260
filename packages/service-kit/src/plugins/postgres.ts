import type { FastifyBaseLogger } from 'fastify';
import fp from 'fastify-plugin';
import pg from 'pg';
import { ensureDatabase, migrate } from '../database.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Connections whose `search_path` is the service's schema: queries name tables unqualified. */
    pg: pg.Pool;
    /**
     * A small pool of its own for the public HTTP reads, whose statements are cancelled after the
     * read timeout: a crowd of readers or one slow aggregate waits here, never on the connections
     * the stream consumers and writes use.
     */
    pgReads: pg.Pool;
  }
}

export interface PostgresOptions {
  /** What the running service logs in as: in production a role that may only read and write its tables. */
  connectionString: string;
  /** The schema owner's URL, for migrations; without it they run as `connectionString`. */
  migrationConnectionString?: string | undefined;
  /** The service's own schema, e.g. `kitchen`; a plain lower-case SQL identifier. */
  schema: string;
  /** Directory of the service's `.sql` migrations. */
  migrationsDir: string;
  /** Most connections the pool opens; default 10. */
  poolSize?: number;
  /** Most connections `app.pgReads` opens; default 2. */
  readPoolSize?: number;
  /** A statement on `app.pgReads` running longer than this is cancelled (SQLSTATE 57014); default 5000. */
  readStatementTimeoutMs?: number;
  /** Names the pool's sessions in `pg_stat_activity` and the server's logs, e.g. `kitchen-app`. */
  applicationName?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Prepares the service's PostgreSQL (database, schema, migrations) before the app is ready, then
 * offers `app.pg` and `app.pgReads`, pools whose connections work inside that schema. Both end on close.
 */
export const postgresPlugin = fp<PostgresOptions>(
  async (
    app,
    {
      connectionString,
      migrationConnectionString = connectionString,
      schema,
      migrationsDir,
      poolSize = 10,
      readPoolSize = 2,
      readStatementTimeoutMs = 5_000,
      applicationName,
    },
  ) => {
    // The schema goes into a connection option and into SQL, where it cannot be a bind parameter.
    if (!IDENTIFIER.test(schema)) throw new Error(`Schema name ${JSON.stringify(schema)} is not a plain SQL identifier`);

    await ensureDatabase(migrationConnectionString);
    await migrate(migrationConnectionString, schema, migrationsDir, app.log.child({ component: 'migrations' }));

    const pool = openPool(app.log, { connectionString, schema, max: poolSize, applicationName });
    const reads = openPool(app.log, {
      connectionString,
      schema,
      max: readPoolSize,
      applicationName: applicationName && `${applicationName}-reads`,
      statementTimeoutMs: Math.trunc(readStatementTimeoutMs),
    });
    app.decorate('pg', pool);
    app.decorate('pgReads', reads);
    app.addHook('onClose', async () => {
      await Promise.all([pool.end(), reads.end()]);
    });
  },
  { name: 'free-lunch-postgres', fastify: '5.x' },
);

function openPool(
  log: FastifyBaseLogger,
  options: { connectionString: string; schema: string; max: number; applicationName?: string | undefined; statementTimeoutMs?: number },
): pg.Pool {
  // random_page_cost: the planner is told that reading a row through an index costs about as
  // much as reading it in a scan, as it does when the tables are in memory, which the services'
  // are. With PostgreSQL's default (4, for spinning disks) it would rather scan a table of
  // twenty thousand rows than look up a batch of a hundred by primary key (the tests in
  // batch-lookups.test.ts show it), and the services look rows up by key a batch at a time.
  const settings = [`-c search_path=${options.schema}`, '-c random_page_cost=1.1'];
  if (options.statementTimeoutMs !== undefined) settings.push(`-c statement_timeout=${options.statementTimeoutMs}`);
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max,
    options: settings.join(' '),
    ...(options.applicationName ? { application_name: options.applicationName } : {}),
  });
  // An idle connection the server drops (restart, failover) emits here; unhandled, it kills the
  // process. The pool replaces it on next use.
  pool.on('error', (error) => log.warn({ err: error }, 'idle postgres connection lost'));
  // A connection the server drops while it is in use emits on its client, which the pool does not
  // listen to while the client is checked out: unhandled, that too would end the process. The
  // query in flight fails with the same error, so whoever holds the client hears of it anyway.
  pool.on('connect', (client) => {
    client.on('error', (error) => log.debug({ err: error }, 'postgres connection lost'));
  });
  return pool;
}
