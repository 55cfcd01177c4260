import fp from 'fastify-plugin';
import pg from 'pg';
import { ensureDatabase, migrate } from '../database.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Connections whose `search_path` is the service's schema: queries name tables unqualified. */
    pg: pg.Pool;
  }
}

export interface PostgresOptions {
  connectionString: string;
  /** The service's own schema, e.g. `kitchen`; a plain lower-case SQL identifier. */
  schema: string;
  /** Directory of the service's `.sql` migrations. */
  migrationsDir: string;
  /** Most connections the pool opens; default 10. */
  poolSize?: number;
  /** Names the pool's sessions in `pg_stat_activity` and the server's logs, e.g. `kitchen-app`. */
  applicationName?: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;

/**
 * Prepares the service's PostgreSQL (database, schema, migrations) before the app is ready, then
 * offers `app.pg`, a pool whose connections work inside that schema. The pool ends on close.
 */
export const postgresPlugin = fp<PostgresOptions>(
  async (app, { connectionString, schema, migrationsDir, poolSize = 10, applicationName }) => {
    // The schema goes into a connection option and into SQL, where it cannot be a bind parameter.
    if (!IDENTIFIER.test(schema)) throw new Error(`Schema name ${JSON.stringify(schema)} is not a plain SQL identifier`);

    await ensureDatabase(connectionString);
    await migrate(connectionString, schema, migrationsDir, app.log.child({ component: 'migrations' }));

    const pool = new pg.Pool({
      connectionString,
      max: poolSize,
      // random_page_cost: the planner is told that reading a row through an index costs about as
      // much as reading it in a scan, as it does when the tables are in memory, which the services'
      // are. With PostgreSQL's default (4, for spinning disks) it would rather scan a table of
      // twenty thousand rows than look up a batch of a hundred by primary key (the tests in
      // batch-lookups.test.ts show it), and the services look rows up by key a batch at a time.
      options: `-c search_path=${schema} -c random_page_cost=1.1`,
      ...(applicationName ? { application_name: applicationName } : {}),
    });
    // An idle connection the server drops (restart, failover) emits here; unhandled, it kills the
    // process. The pool replaces it on next use.
    pool.on('error', (error) => app.log.warn({ err: error }, 'idle postgres connection lost'));
    // A connection the server drops while it is in use emits on its client, which the pool does not
    // listen to while the client is checked out: unhandled, that too would end the process. The
    // query in flight fails with the same error, so whoever holds the client hears of it anyway.
    pool.on('connect', (client) => {
      client.on('error', (error) => app.log.debug({ err: error }, 'postgres connection lost'));
    });
    app.decorate('pg', pool);
    app.addHook('onClose', () => pool.end());
  },
  { name: 'free-lunch-postgres', fastify: '5.x' },
);
