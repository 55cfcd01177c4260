import type { FastifyBaseLogger } from 'fastify';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

/** Table, inside the service's schema, recording which migrations ran. */
const MIGRATIONS_TABLE = 'pgmigrations';

/** SQLSTATEs meaning "the database is already there" when two replicas create it at once. */
const DUPLICATE_DATABASE = new Set(['42P04', '23505']);

/**
 * Creates the database named in `connectionString` when it does not exist yet, so a fresh
 * PostgreSQL needs no manual step. Connects to the `postgres` maintenance database to do it.
 */
export async function ensureDatabase(connectionString: string): Promise<void> {
  const probe = new pg.Client({ connectionString });
  // A connection dropped under a client is also reported as an 'error' event; the awaited call fails anyway.
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return;
  } catch (error) {
    if ((error as { code?: string }).code !== '3D000') throw error; // 3D000: database does not exist
  } finally {
    await probe.end().catch(() => {});
  }

  const target = new URL(connectionString);
  const name = decodeURIComponent(target.pathname.slice(1));
  const maintenance = new URL(connectionString);
  maintenance.pathname = '/postgres';
  const admin = new pg.Client({ connectionString: maintenance.toString() });
  admin.on('error', () => undefined);
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${pg.escapeIdentifier(name)}`);
  } catch (error) {
    if (!DUPLICATE_DATABASE.has((error as { code?: string }).code ?? '')) throw error;
  } finally {
    await admin.end();
  }
}

/**
 * Applies the `.sql` files of `dir` not applied yet, in file-name order, inside `schema` (created
 * if missing). node-pg-migrate holds a PostgreSQL advisory lock meanwhile, and here waits for it
 * rather than failing, so replicas starting together take turns and each migration runs once.
 */
export async function migrate(
  connectionString: string,
  schema: string,
  dir: string,
  logger: FastifyBaseLogger,
): Promise<void> {
  // A client of our own rather than a URL: one node-pg-migrate opened would have no listener for a
  // connection dropped mid-migration, and that 'error' event would end the process unhandled.
  const client = new pg.Client({ connectionString });
  client.on('error', () => undefined); // the migration's own query fails with it
  await client.connect();
  try {
    // A provisioned schema exists and belongs to the migrating role, which may not create schemas
    // (CREATE SCHEMA IF NOT EXISTS is refused without that right even when the schema is there).
    const { rowCount } = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    await runMigrations(client, schema, dir, logger, rowCount === 0);
  } finally {
    await client.end().catch(() => {});
  }
}

async function runMigrations(
  client: pg.Client,
  schema: string,
  dir: string,
  logger: FastifyBaseLogger,
  createSchema: boolean,
): Promise<void> {
  await runner({
    dbClient: client,
    dir,
    // node-pg-migrate anchors it (^…$): skip dotfiles and anything not .sql, such as a README.
    ignorePattern: String.raw`(\..*|.*(?<!\.sql))`,
    direction: 'up',
    schema,
    createSchema,
    migrationsSchema: schema,
    migrationsTable: MIGRATIONS_TABLE,
    advisoryLockMode: 'wait',
    singleTransaction: true,
    logger: {
      info: (message) => logger.info(message),
      warn: (message) => logger.warn(message),
      error: (message) => logger.error(message),
    },
  });
}
