import pg from 'pg';

/**
 * The two PostgreSQL roles of one service: `owner` owns its schema and runs its migrations; `app`
 * is what the running service logs in as, and may read and write the schema's tables and nothing
 * else: no DDL, no other service's schema.
 */
export interface ServiceRoles {
  schema: string;
  owner: string;
  app: string;
}

/** The role names of a service's schema: `fl_<schema>_owner` and `fl_<schema>_app`. */
export function serviceRoles(schema: string): ServiceRoles {
  assertIdentifier(schema);
  return { schema, owner: `fl_${schema}_owner`, app: `fl_${schema}_app` };
}

export interface ProvisionOptions {
  /** A superuser's (or the RDS master user's) URL; its database is the one provisioned, created if missing. */
  adminUrl: string;
  /** The schemas to provision, e.g. `['orders', 'kitchen', 'inventory']`. */
  schemas: readonly string[];
  /**
   * Each role's password, by role name. Roles without one get none (fine under trust or peer auth,
   * as on a developer's machine); a role that exists keeps its password unless one is given.
   */
  passwords?: Readonly<Record<string, string>>;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
/** SQLSTATEs of two provisioners creating the same role or database at once. */
const ALREADY_THERE = new Set(['42710', '23505', '42P04', 'XX000']);

/**
 * Creates (or brings up to date) a database for the services with least privilege: per schema an
 * owner role and an app role as {@link serviceRoles} names them, the schema owned by its owner,
 * everything already in it handed to the owner, and the app role granted use of the schema and
 * read/write of its tables and sequences (now and, through default privileges, of every table its
 * owner creates later). Nobody else may connect. Idempotent: safe to run at every deploy and by
 * several processes at once.
 */
export async function provisionDatabase({ adminUrl, schemas, passwords = {} }: ProvisionOptions): Promise<void> {
  const database = decodeURIComponent(new URL(adminUrl).pathname.slice(1));
  const roles = schemas.map(serviceRoles);
  await withClient(maintenanceUrl(adminUrl), async (admin) => {
    await tolerateRace(() => admin.query(`CREATE DATABASE ${pg.escapeIdentifier(database)}`), '42P04');
    for (const { owner, app } of roles) {
      for (const role of [owner, app]) await ensureRole(admin, role, passwords[role]);
      // An admin that is not a superuser (RDS's master user) may only hand objects to, and set
      // default privileges for, roles it is a member of.
      await tolerateRace(() => admin.query(`GRANT ${owner} TO CURRENT_USER`));
    }
  });

  await withClient(adminUrl, async (admin) => {
    const db = pg.escapeIdentifier(database);
    // Roles are shared by the whole server: only the services' roles may connect to this database.
    await admin.query(`REVOKE ALL ON DATABASE ${db} FROM PUBLIC`);
    await admin.query('REVOKE ALL ON SCHEMA public FROM PUBLIC');
    for (const { schema, owner, app } of roles) {
      await admin.query(`GRANT CONNECT ON DATABASE ${db} TO ${owner}, ${app}`);
      await tolerateRace(() => admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema} AUTHORIZATION ${owner}`));
      await admin.query(`ALTER SCHEMA ${schema} OWNER TO ${owner}`);
      await handOverObjects(admin, schema, owner);
      await admin.query(`REVOKE ALL ON SCHEMA ${schema} FROM PUBLIC`);
      await admin.query(`GRANT USAGE ON SCHEMA ${schema} TO ${app}`);
      await admin.query(`GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ${schema} TO ${app}`);
      await admin.query(`GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ${schema} TO ${app}`);
      await admin.query(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${app}`,
      );
      await admin.query(
        `ALTER DEFAULT PRIVILEGES FOR ROLE ${owner} IN SCHEMA ${schema} GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${app}`,
      );
    }
  });
}

/**
 * Provisions `schema` in the database of `adminUrl` (see provisionDatabase) and returns the URLs its
 * service runs with: as its app role, and as its owner for migrations. For stacks started on a
 * developer's machine and in tests, where roles need no password.
 */
export async function serviceDatabaseEnv(
  adminUrl: string,
  schema: string,
): Promise<{ DATABASE_URL: string; MIGRATION_DATABASE_URL: string }> {
  await provisionDatabase({ adminUrl, schemas: [schema] });
  const roles = serviceRoles(schema);
  return { DATABASE_URL: urlAs(adminUrl, roles.app), MIGRATION_DATABASE_URL: urlAs(adminUrl, roles.owner) };
}

/**
 * A copy of `url` logged in as `role` (with `password`, if any): what a service is given as
 * DATABASE_URL (its app role) and MIGRATION_DATABASE_URL (its owner).
 */
export function urlAs(url: string, role: string, password?: string): string {
  const copy = new URL(url);
  copy.username = role;
  copy.password = password ?? '';
  return copy.toString();
}

async function ensureRole(admin: pg.Client, role: string, password: string | undefined): Promise<void> {
  const passwordClause = password === undefined ? '' : ` PASSWORD ${pg.escapeLiteral(password)}`;
  const { rowCount } = await admin.query('SELECT 1 FROM pg_roles WHERE rolname = $1', [role]);
  if (rowCount === 0) {
    await tolerateRace(() => admin.query(`CREATE ROLE ${role} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE${passwordClause}`));
  }
  if (password !== undefined) await admin.query(`ALTER ROLE ${role} WITH LOGIN${passwordClause}`);
}

/** Tables, sequences and views made before the schema had its owner (e.g. by the admin) become the owner's. */
async function handOverObjects(admin: pg.Client, schema: string, owner: string): Promise<void> {
  const { rows } = await admin.query<{ name: string; kind: string }>(
    `SELECT c.relname AS name, c.relkind AS kind
       FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = $1 AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND pg_get_userbyid(c.relowner) <> $2
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.deptype = 'a')`,
    [schema, owner],
  );
  for (const { name, kind } of rows) {
    const what = kind === 'S' ? 'SEQUENCE' : kind === 'v' ? 'VIEW' : kind === 'm' ? 'MATERIALIZED VIEW' : 'TABLE';
    await admin.query(`ALTER ${what} ${schema}.${pg.escapeIdentifier(name)} OWNER TO ${owner}`);
  }
}

async function tolerateRace(statement: () => Promise<unknown>, ...codes: string[]): Promise<void> {
  try {
    await statement();
  } catch (error) {
    const code = (error as { code?: string }).code ?? '';
    if (!ALREADY_THERE.has(code) && !codes.includes(code)) throw error;
  }
}

async function withClient<T>(url: string, work: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => undefined); // a dropped connection also fails the query in flight
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => {});
  }
}

function maintenanceUrl(url: string): string {
  const copy = new URL(url);
  copy.pathname = '/postgres';
  return copy.toString();
}

function assertIdentifier(name: string): void {
  if (!IDENTIFIER.test(name)) throw new Error(`${JSON.stringify(name)} is not a plain SQL identifier`);
}
