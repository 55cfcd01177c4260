/**
 * What each image holds, booted without Docker (no engine on these machines): the Dockerfile's own
 * `pnpm deploy … /out` step, run into a temporary folder laid out as the image is (the package at
 * /app, tsconfig.base.json above it, the backlog reporter at /app/ops), then the image's entry
 * point and command started from there against the local Redis and PostgreSQL.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, deleteTestKeys, testEnv, testKeyPrefix, type TestDatabase } from '@free-lunch/service-kit/testing';
import { catalog, type Deployable } from '../lib/catalog.js';
import { BACKLOG_METRIC, BACKLOG_NAMESPACE } from '../runtime/backlog-contract.js';

const run = promisify(execFile);
const repository = fileURLToPath(new URL('../../', import.meta.url));
const entrypoint = join(repository, 'infra/docker/entrypoint.sh');
const BOOT_TIMEOUT_MS = 60_000;

/** The image's file system, rebuilt from its Dockerfile in a temporary folder. */
interface ImageFolder {
  root: string;
  /** The image's WORKDIR: where the service starts. */
  app: string;
  dockerfile: string;
  deployMs: number;
}

/** The `pnpm deploy … /out` line of the Dockerfile, as arguments. */
function deployArguments(dockerfile: string): string[] {
  const line = /pnpm (deploy [^\n\\&]*?) \/out\b/.exec(dockerfile);
  if (!line) throw new Error('the Dockerfile runs no `pnpm deploy … /out`');
  return line[1]!.trim().split(/\s+/);
}

/** The HEALTHCHECK's node one-liner. */
function healthCheckScript(dockerfile: string): string {
  const exec = /HEALTHCHECK[^\n]*\\\n\s*CMD (\[.*\])/.exec(dockerfile);
  if (!exec) throw new Error('the Dockerfile has no HEALTHCHECK CMD [...]');
  const [node, flag, script] = JSON.parse(exec[1]!) as string[];
  expect([node, flag]).toEqual(['node', '-e']);
  return script!;
}

async function buildImageFolder(deployable: Deployable): Promise<ImageFolder> {
  const dockerfile = readFileSync(join(repository, deployable.dockerfile), 'utf8');
  const root = mkdtempSync(join(tmpdir(), `free-lunch-image-${deployable.name}-`));
  // Same depth below / as the package is below the repository root, so `extends` finds the base.
  const depth = dirname(deployable.dockerfile).split('/').length;
  const app = depth === 1 ? join(root, 'app') : join(root, 'app', deployable.name);
  mkdirSync(dirname(app), { recursive: true });
  const started = performance.now();
  await run('pnpm', [...deployArguments(dockerfile), app], { cwd: repository, timeout: 120_000 });
  const deployMs = Math.round(performance.now() - started);
  rmSync(join(app, 'test'), { recursive: true, force: true });
  cpSync(join(repository, 'tsconfig.base.json'), join(root, 'tsconfig.base.json'));
  if (dockerfile.includes('COPY infra/runtime ./ops')) cpSync(join(repository, 'infra/runtime'), join(app, 'ops'), { recursive: true });
  if (dockerfile.includes('pnpm --filter @free-lunch/dashboard build')) {
    // The image's dashboard build, written straight to where the image keeps it (not the repository's
    // dist, which the dashboard's own tests use).
    const dashboard = /COPY --from=build \/workspace\/packages\/dashboard\/dist \.\/(\S+)/.exec(dockerfile)![1]!;
    await run(
      'pnpm',
      ['--filter', '@free-lunch/dashboard', 'exec', 'vite', 'build', '--outDir', join(app, dashboard), '--emptyOutDir', '--logLevel', 'warn'],
      { cwd: repository, timeout: 120_000 },
    );
  }
  return { root, app, dockerfile, deployMs };
}

/** A process started as the image starts it, with its output kept for the failure message. */
class Started {
  readonly output: string[] = [];
  private readonly exited: Promise<number | null>;

  constructor(readonly child: ChildProcess) {
    for (const stream of [child.stdout!, child.stderr!]) {
      createInterface({ input: stream }).on('line', (line) => this.output.push(line));
    }
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
  }

  /** The first stdout/stderr line for which `pick` returns something. */
  async waitFor<T>(pick: (line: string) => T | undefined, what: string): Promise<T> {
    const deadline = Date.now() + BOOT_TIMEOUT_MS;
    let seen = 0;
    while (Date.now() < deadline) {
      for (; seen < this.output.length; seen++) {
        const found = pick(this.output[seen]!);
        if (found !== undefined) return found;
      }
      if (this.child.exitCode !== null) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    throw new Error(`no ${what}; output:\n${this.output.slice(-30).join('\n')}`);
  }

  /** SIGTERM, as ECS and docker stop send; resolves to the exit code. */
  async stop(): Promise<number | null> {
    if (this.child.exitCode === null) this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 20_000);
    try {
      return await this.exited;
    } finally {
      clearTimeout(timer);
    }
  }
}

function startInImage(image: ImageFolder, command: string[], env: Record<string, string>): Started {
  // The image's ENTRYPOINT, when it has one, wraps the command as it does in the container.
  const wrapped = image.dockerfile.includes('ENTRYPOINT ["free-lunch-entrypoint"]')
    ? ['sh', entrypoint, process.execPath, ...command]
    : [process.execPath, ...command];
  const child = spawn(wrapped[0]!, wrapped.slice(1), {
    cwd: image.app,
    // Only what the image sets (its ENV) and what the platform passes, not this shell's environment.
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', NODE_ENV: 'production', TSX_DISABLE_CACHE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return new Started(child);
}

const json = (line: string): Record<string, unknown> | undefined => {
  try {
    const value = JSON.parse(line);
    return value && typeof value === 'object' ? value : undefined;
  } catch {
    return undefined;
  }
};

/** Where the service says it listens: services log `listening` with an address, the market its URL. */
const listeningAt = (line: string) => {
  const entry = json(line);
  if (entry?.msg === 'listening' && typeof entry.address === 'string') return entry.address;
  if (entry?.msg === 'farmers market open' && typeof entry.url === 'string') return new URL(entry.url).origin;
  return undefined;
};

async function healthCheck(image: ImageFolder, portVariable: string, port: string): Promise<number> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', healthCheckScript(image.dockerfile)], { env: { [portVariable]: port }, timeout: 10_000 }, (error) =>
      resolve(error ? Number((error as { code?: number }).code ?? 1) : 0),
    );
  });
}

/** PostgreSQL and Redis as ECS hands them to the entry point: endpoints and credentials apart. */
function storeParts(database: TestDatabase): Record<string, string> {
  const db = new URL(database.url);
  const redis = new URL(testEnv.redisUrl);
  return {
    DB_HOST: db.hostname,
    DB_PORT: db.port || '5432',
    DB_NAME: db.pathname.slice(1),
    DB_USER: decodeURIComponent(db.username),
    DB_PASSWORD: decodeURIComponent(db.password),
    REDIS_SCHEME: redis.protocol.replace(':', ''),
    REDIS_HOST: redis.hostname,
    REDIS_PORT: redis.port || '6379',
    REDIS_AUTH_TOKEN: decodeURIComponent(redis.password),
  };
}

const images = [
  { deployable: catalog.kitchen, stores: 'as ECS passes them (endpoints and secrets apart)' },
  { deployable: catalog.inventory, stores: 'as docker compose passes them (whole URLs)' },
  { deployable: catalog.orders, stores: 'as docker compose passes them (whole URLs)' },
  { deployable: catalog.market, stores: null },
];
// All four at once: each `pnpm deploy` mostly waits on its lockfile's supply-chain check.
const folders = new Map<Deployable, Promise<ImageFolder>>();
const folderOf = (deployable: Deployable) => {
  if (!folders.has(deployable)) folders.set(deployable, buildImageFolder(deployable));
  return folders.get(deployable)!;
};
beforeAll(async () => {
  await Promise.all(images.map(({ deployable }) => folderOf(deployable)));
}, 120_000);
afterAll(async () => {
  const built = await Promise.allSettled(folders.values());
  for (const result of built) if (result.status === 'fulfilled') rmSync(result.value.root, { recursive: true, force: true });
});

describe.each(images)('the $deployable.name image', ({ deployable, stores }) => {
  let image: ImageFolder;
  let database: TestDatabase | undefined;
  beforeAll(async () => {
    image = await folderOf(deployable);
    if (stores) database = await createTestDatabase();
  }, 120_000);
  afterAll(async () => {
    await database?.drop();
  });

  it(`when deployed the way its Dockerfile does, then the folder holds ${deployable.packageName} and only production dependencies`, () => {
    expect(JSON.parse(readFileSync(join(image.app, 'package.json'), 'utf8')).name).toBe(deployable.packageName);
    for (const dependency of ['typescript', 'vitest', '@free-lunch/market-simulator', '@free-lunch/stack']) {
      if (deployable === catalog.market && dependency === '@free-lunch/market-simulator') continue;
      expect(existsSync(join(image.app, 'node_modules', dependency)), dependency).toBe(false);
    }
    // Workspace packages are real copies: the image has no repository to link back to.
    const contracts = join(image.app, 'node_modules/@free-lunch/contracts/package.json');
    expect(readFileSync(contracts, 'utf8')).toContain('@free-lunch/contracts');
    console.info(`pnpm deploy of ${deployable.packageName}: ${image.deployMs} ms`);
  });

  it(`when started from that folder alone${stores ? `, with the stores ${stores}` : ''}, then /health and ${stores ? '/ready answer' : 'the market answers'}${deployable === catalog.orders ? ', / is the dashboard' : ''}, the image's health check passes, and SIGTERM stops it cleanly`, async () => {
    const env: Record<string, string> = { LOG_LEVEL: 'info' };
    if (deployable === catalog.market) {
      Object.assign(env, { MARKET_HOST: '127.0.0.1', MARKET_PORT: '0' });
    } else {
      Object.assign(env, { HOST: '127.0.0.1', PORT: '0', KEY_PREFIX: testKeyPrefix(), MANAGER_TOKEN: 'image-test-token-0123456789abcdefghijkl' });
      // What the image sets with ENV, pointing into the folder instead of /app.
      const dashboard = /DASHBOARD_DIR=\/app\/(\S+)/.exec(image.dockerfile);
      if (dashboard) {
        Object.assign(env, {
          DASHBOARD_DIR: join(image.app, dashboard[1]!),
          KITCHEN_PUBLIC_URL: 'http://kitchen.example.test',
          INVENTORY_PUBLIC_URL: 'http://inventory.example.test',
        });
      }
      Object.assign(
        env,
        deployable === catalog.kitchen
          ? storeParts(database!)
          : { DATABASE_URL: database!.url, REDIS_URL: testEnv.redisUrl },
      );
    }
    const service = startInImage(image, ['--import', 'tsx', 'src/server.ts'], env);
    try {
      const address = await service.waitFor(listeningAt, 'listening address');
      const health = await fetch(`${address}/health`);
      expect(health.status).toBe(200);
      if (stores) {
        const ready = await fetch(`${address}/ready`);
        expect(ready.status).toBe(200);
        expect(await ready.json()).toMatchObject({ checks: { postgres: true, redis: true } });
      } else {
        const sale = await fetch(`${address}/api/farmers-market/buy?ingredient=tomato`);
        expect(sale.status).toBe(200);
        expect(await sale.json()).toEqual({ quantitySold: expect.any(Number) });
      }
      if (deployable === catalog.orders) {
        // The dashboard the image carries, found through the DASHBOARD_DIR the image sets.
        const page = await fetch(`${address}/`);
        expect(page.headers.get('content-type')).toMatch(/^text\/html/);
        expect(await page.text()).toBe(readFileSync(join(env.DASHBOARD_DIR!, 'index.html'), 'utf8'));
        expect(await (await fetch(`${address}/config`)).json()).toMatchObject({
          kitchenUrl: env.KITCHEN_PUBLIC_URL,
          inventoryUrl: env.INVENTORY_PUBLIC_URL,
        });
      }
      const port = new URL(address).port;
      expect(await healthCheck(image, deployable.portVariable, port)).toBe(0);

      expect(await service.stop()).toBe(0);
      expect(await healthCheck(image, deployable.portVariable, port)).not.toBe(0);
    } finally {
      await service.stop();
      if (env.KEY_PREFIX) await deleteTestKeys(env.KEY_PREFIX);
    }
  }, 120_000);

  if (deployable.consumes.length > 0 && deployable !== catalog.orders) {
    it('when the backlog reporter runs from the image, then it prints the group\'s backlog as a CloudWatch embedded metric', async () => {
      expect(existsSync(join(image.app, 'ops/report-backlog.ts'))).toBe(true);
      const prefix = testKeyPrefix();
      const redis = new Redis(testEnv.redisUrl);
      const keys = deployable.consumes.map(({ stream }) => `${prefix}${stream}`);
      try {
        // Each stream: three entries nobody read, and one read but never acknowledged.
        for (const [index, { group }] of deployable.consumes.entries()) {
          const key = keys[index]!;
          await redis.xgroup('CREATE', key, group, '$', 'MKSTREAM');
          for (let n = 0; n < 4; n++) await redis.xadd(key, '*', 'm', '{}');
          await redis.xreadgroup('GROUP', group, 'someone', 'COUNT', 1, 'STREAMS', key, '>');
        }
        const reporter = startInImage(image, ['--import', 'tsx', 'ops/report-backlog.ts'], {
          ...storeParts(database!),
          KEY_PREFIX: prefix,
          BACKLOG_SERVICE: deployable.name,
          BACKLOG_STREAMS: deployable.consumes.map(({ stream, group }) => `${stream}:${group}`).join(','),
          BACKLOG_INTERVAL_MS: '1000',
        });
        try {
          const record = await reporter.waitFor((line) => {
            const entry = json(line);
            return entry && '_aws' in entry ? entry : undefined;
          }, 'metric record');
          expect(record).toMatchObject({
            _aws: { CloudWatchMetrics: [{ Namespace: BACKLOG_NAMESPACE, Metrics: [{ Name: BACKLOG_METRIC }] }] },
            Service: deployable.name,
            [BACKLOG_METRIC]: 4 * deployable.consumes.length,
          });
          expect(await reporter.stop()).toBe(0);
        } finally {
          await reporter.stop();
        }
      } finally {
        if (keys.length) await redis.del(...keys);
        redis.disconnect();
      }
    }, 60_000);
  }
});
