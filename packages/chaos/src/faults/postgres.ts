import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pg from 'pg';
import type { PostgresProxy } from '@free-lunch/service-kit/testing';

const run = promisify(execFile);

/** A user's mistake about the PostgreSQL server (e.g. --stop-postgres on a server that is not local). */
export class PostgresSetupError extends Error {
  override name = 'PostgresSetupError';
}

/**
 * Ends every session on the run's database but this one's (pg_terminate_backend), as an
 * administrator or a failover does: the services' pools find their connections dead mid-work.
 * Returns how many it ended.
 */
export async function cutSessions(adminDatabaseUrl: string): Promise<number> {
  const client = new pg.Client({ connectionString: adminDatabaseUrl });
  client.on('error', () => undefined);
  await client.connect();
  try {
    const { rows } = await client.query<{ ended: number }>(
      `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS ended
         FROM pg_stat_activity
        WHERE datname = current_database() AND pid <> pg_backend_pid()`,
    );
    return rows[0]?.ended ?? 0;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** How a PostgreSQL outage is made, and undone. */
export interface PostgresOutage {
  /** What the outage hits, for the schedule's printout. */
  readonly target: string;
  /** Takes PostgreSQL away; answers what it did. */
  begin(): Promise<string>;
  /** Brings it back; answers what it did. */
  end(): Promise<string>;
  /** Whether PostgreSQL is away right now (for the clean-up after a failed run). */
  readonly away: boolean;
}

/** An outage through the proxy the services reach PostgreSQL by: every connection dropped, new ones refused. */
export function proxyOutage(proxy: PostgresProxy): PostgresOutage {
  let away = false;
  return {
    target: 'postgres (proxy)',
    get away() {
      return away;
    },
    async begin() {
      away = true;
      return `dropped ${proxy.unplug()} connections; refusing new ones`;
    },
    async end() {
      proxy.plugIn();
      away = false;
      return 'accepting connections again';
    },
  };
}

/**
 * An outage of the server itself: `pg_ctlcluster <version> <cluster> stop` (fast shutdown), then
 * `start`. Only for a server on this machine, managed by Debian's postgresql-common, that the user
 * said may be stopped: every database on it goes away, not only the run's.
 * @throws PostgresSetupError when the server of `databaseUrl` is not such a cluster
 */
export async function serverOutage(databaseUrl: string): Promise<PostgresOutage> {
  const url = new URL(databaseUrl);
  if (!['127.0.0.1', 'localhost', '[::1]', ''].includes(url.hostname)) {
    throw new PostgresSetupError(`--stop-postgres needs a PostgreSQL server on this machine; DATABASE_URL points at ${url.hostname}`);
  }
  const port = url.port || '5432';
  let listing: string;
  try {
    listing = (await run('pg_lsclusters', ['--no-header'])).stdout;
  } catch {
    throw new PostgresSetupError('--stop-postgres needs pg_lsclusters and pg_ctlcluster (Debian\'s postgresql-common) on this machine');
  }
  const cluster = listing
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .find((fields) => fields[2] === port);
  if (!cluster) throw new PostgresSetupError(`--stop-postgres: no local cluster listens on port ${port} (pg_lsclusters)`);
  const [version, name] = cluster as [string, string];
  const ctl = (action: 'stop' | 'start') =>
    run('pg_ctlcluster', ['--skip-systemctl-redirect', version, name, action, ...(action === 'stop' ? ['-m', 'fast'] : [])]);
  let away = false;
  return {
    target: `postgres ${version}/${name} (server)`,
    get away() {
      return away;
    },
    async begin() {
      away = true;
      await ctl('stop');
      return `stopped cluster ${version}/${name}`;
    },
    async end() {
      await ctl('start');
      away = false;
      return `started cluster ${version}/${name}`;
    },
  };
}
