/**
 * `pnpm start`: the whole system on this machine. Runs the market simulator (unless MARKET_URL
 * points at a real market) and the three services as separate processes sharing one environment,
 * prints where to look once every service is ready, and stops everything on Ctrl-C.
 */
import { execFileSync, spawn, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import {
  createConcurrently,
  KillOnSignal,
  KillOthers,
  LogError,
  LogExit,
  Logger,
  LogOutput,
  type ConcurrentlyCommandInput,
} from 'concurrently';
import { provisionRedisUsers, serviceDatabaseEnv } from '@free-lunch/service-kit';
import { waitUntilReady } from './readiness.js';

/** The services' DATABASE_URL default, as in their config: the admin of a local PostgreSQL. */
const DEFAULT_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/free_lunch';
const SCHEMAS: Record<string, string> = { 'orders-app': 'orders', 'kitchen-app': 'kitchen', 'inventory-app': 'inventory' };

const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const simulatorPort = Number(process.env.MARKET_PORT ?? 3100);

// A token for this run unless the environment gives some (MANAGER_TOKENS, or MANAGER_TOKEN).
const givenTokens = (process.env.MANAGER_TOKENS ?? process.env.MANAGER_TOKEN ?? '')
  .split(',')
  .map((token) => token.trim())
  .filter((token) => token !== '');
const generatedToken = givenTokens.length === 0;
const managerToken = givenTokens[0] ?? randomBytes(32).toString('base64url');
const marketUrl =
  process.env.MARKET_URL ?? `http://127.0.0.1:${simulatorPort}/api/farmers-market/buy`;

const env = {
  ...process.env,
  MANAGER_TOKENS: generatedToken ? managerToken : givenTokens.join(','),
  MANAGER_TOKEN: '',
  MARKET_URL: marketUrl,
  // Readable lines for a person at a terminal; JSON when the output goes to a file or a collector.
  LOG_FORMAT: process.env.LOG_FORMAT ?? (process.stdout.isTTY ? 'pretty' : 'json'),
};

const services = [
  { name: 'orders', dir: 'orders-app', port: Number(process.env.ORDERS_PORT ?? 3000), color: 'cyan' },
  { name: 'kitchen', dir: 'kitchen-app', port: Number(process.env.KITCHEN_PORT ?? 3001), color: 'yellow' },
  { name: 'inventory', dir: 'inventory-app', port: Number(process.env.INVENTORY_PORT ?? 3002), color: 'green' },
];

const host = process.env.PUBLIC_HOST ?? 'localhost';
// The dashboard, served by orders-app, reads recipes, stock and purchases from these in the browser.
const dashboardEnv = {
  KITCHEN_PUBLIC_URL: process.env.KITCHEN_PUBLIC_URL ?? `http://${host}:${services[1]!.port}`,
  INVENTORY_PUBLIC_URL: process.env.INVENTORY_PUBLIC_URL ?? `http://${host}:${services[2]!.port}`,
  // ...and those two let it, from wherever the browser reaches orders-app.
  CORS_ORIGINS:
    process.env.CORS_ORIGINS ??
    [...new Set([host, 'localhost', '127.0.0.1'])].map((name) => `http://${name}:${services[0]!.port}`).join(','),
};

// orders-app serves the dashboard's built files: build them when missing or older than the sources.
execFileSync(process.execPath, ['--import', 'tsx', 'scripts/ensure-built.ts'], {
  cwd: `${repoRoot}packages/dashboard`,
  stdio: 'inherit',
});

// Each service logs in to PostgreSQL as in production: a role that may only read and write its own
// tables (its schema's owner runs its migrations), created here as the admin DATABASE_URL names.
const databaseEnv = await serviceRoles();
// ...and to Redis as a user that may touch only the streams and keys it uses (ACL), made here too.
const redisEnv = await redisUsers();

const commands: ConcurrentlyCommandInput[] = services.map((service) => ({
  name: service.name,
  // The heap cap every service runs with (SERVICE_NODE_FLAGS in service-process.ts says why).
  command: 'node --max-old-space-size=128 --import tsx src/server.ts',
  cwd: `${repoRoot}${service.dir}`,
  env: { ...env, ...dashboardEnv, ...databaseEnv[service.dir], ...redisEnv[service.dir], PORT: String(service.port) },
  prefixColor: service.color,
}));
if (!process.env.MARKET_URL) {
  commands.unshift({
    name: 'market',
    command: 'node --import tsx src/server.ts',
    cwd: `${repoRoot}packages/market-simulator`,
    env: { ...env, MARKET_PORT: String(simulatorPort) },
    prefixColor: 'magenta',
  });
}

// Each process runs in a process group of its own, so Ctrl-C at the terminal reaches this script
// alone and the services get exactly one signal, forwarded below: a second one would make them skip
// their graceful shutdown (close-with-grace exits at once on a repeated signal).
const logger = new Logger({ prefixFormat: 'name' });
const abortController = new AbortController();
const { result } = createConcurrently(commands, {
  logger,
  outputStream: process.stdout,
  abortSignal: abortController.signal,
  // (Windows has no process groups to speak of: there concurrently's own spawn is kept.)
  ...(process.platform !== 'win32' && {
    spawn: (command: string, options: SpawnOptions) => spawn('/bin/sh', ['-c', command], { ...options, detached: true }),
  }),
  controllers: [
    new LogError({ logger }),
    new LogOutput({ logger }),
    new LogExit({ logger }),
    new KillOnSignal({ process, abortController }),
    new KillOthers({ logger, conditions: ['failure', 'success'], killSignal: undefined, abortController }),
  ],
});

waitUntilReady(services.map((service) => `http://127.0.0.1:${service.port}/ready`))
  .then(() => {
    const lines = [
      '',
      'Free Lunch is running.',
      `  Dashboard          http://${host}:${services[0]!.port}/  (sign in with the token below)`,
      ...services.map(
        (service) => `  ${`${service.name} API docs`.padEnd(18)} http://${host}:${service.port}/documentation`,
      ),
      `  Market             ${marketUrl}${process.env.MARKET_URL ? '' : ' (simulator)'}`,
      `  Manager token      ${managerToken}${generatedToken ? '  (generated; set MANAGER_TOKENS to choose it)' : ''}`,
      '',
      `  Order a dish:  curl -X POST http://${host}:${services[0]!.port}/orders \\`,
      `                   -H 'Authorization: Bearer ${managerToken}' -H 'Content-Type: application/json' \\`,
      `                   -d '{"quantity": 5}'`,
      '',
      'Press Ctrl-C to stop everything.',
      '',
    ];
    console.log(lines.join('\n'));
  })
  .catch((error: Error) => console.error(`The stack did not become ready: ${error.message}`));

result.then(
  () => process.exit(0),
  () => process.exit(process.exitCode ?? 1),
);

/**
 * Per service, its DATABASE_URL and MIGRATION_DATABASE_URL. When the environment already names a
 * MIGRATION_DATABASE_URL, the roles are the operator's and are left alone; when the admin cannot
 * create roles, every service runs as the one user given, and says so.
 */
async function serviceRoles(): Promise<Record<string, Record<string, string>>> {
  if (process.env.MIGRATION_DATABASE_URL) return {};
  const adminUrl = process.env.DATABASE_URL ?? DEFAULT_DATABASE_URL;
  try {
    const roles: Record<string, Record<string, string>> = {};
    for (const service of services) roles[service.dir] = await serviceDatabaseEnv(adminUrl, SCHEMAS[service.dir]!);
    return roles;
  } catch (error) {
    console.warn(
      `Could not create the services' own PostgreSQL roles as ${new URL(adminUrl).username || 'the default user'} ` +
        `(${(error as Error).message}); every service runs as that user instead.`,
    );
    return {};
  }
}

/**
 * Per service, a REDIS_URL logging in as its own ACL user (see redisAclRules), named after the key
 * prefix so two stacks on one Redis keep theirs. When the server refuses (no ACL rights), every
 * service runs as the user REDIS_URL gives, and says so.
 */
async function redisUsers(): Promise<Record<string, Record<string, string>>> {
  const adminUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = process.env.KEY_PREFIX ?? 'fl:';
  try {
    const urls = await provisionRedisUsers(adminUrl, prefix, { userPrefix: prefix.replace(/[^A-Za-z0-9]+/g, '') || 'fl' });
    return { 'orders-app': { REDIS_URL: urls.orders }, 'kitchen-app': { REDIS_URL: urls.kitchen }, 'inventory-app': { REDIS_URL: urls.inventory } };
  } catch (error) {
    console.warn(`Could not create the services' own Redis users (${(error as Error).message}); every service runs as REDIS_URL's user.`);
    return {};
  }
}
