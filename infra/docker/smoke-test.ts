/**
 * `pnpm test:containers`: docker-compose.yaml run for real, offline. Starts the Docker engine when none
 * runs (without its bridge network), makes the base images (scripts/container-base-images.sh), builds
 * the four service images, brings the stack up from docker-compose.yaml rewritten for host networking
 * on 127.0.0.1 and non-standard ports (compose.smoke.yaml is derived, not a second copy to keep in
 * step), places orders through the orders container and waits for them to be delivered, checks the
 * stock audit balances, that every service runs as a non-root user and is healthy by its image's own
 * HEALTHCHECK, that SIGTERM stops each within its grace period; runs the end-to-end pipeline test
 * with PostgreSQL and Redis from testcontainers; then removes everything it made: containers, volumes,
 * images (the base images and build cache too unless --keep-base-images), and the engine if it
 * started it.
 */
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

const repository = fileURLToPath(new URL('../../', import.meta.url));
const DOCKER = process.env.DOCKER ?? '/usr/bin/docker';
const PROJECT = 'fl-smoke';
const keepBaseImages = process.argv.includes('--keep-base-images');
const BASE = process.env.BASE_IMAGE_PREFIX ?? 'free-lunch-base';
const NODE_IMAGE = `${BASE}/node:22`;
/** Non-standard ports on 127.0.0.1, clear of the host's PostgreSQL, Redis and a `pnpm start`. */
const PORTS = { postgres: 15432, redis: 16379, market: 13100, 'orders-app': 13000, 'kitchen-app': 13001, 'inventory-app': 13002 };
const SERVICES = ['orders-app', 'kitchen-app', 'inventory-app', 'market'] as const;
const GRACE_SECONDS = 10;
const MANAGER_TOKEN = `smoke-${Date.now()}-manager-token-0123456789abcdef`;
const ORDERS = 12;

const checked: string[] = [];
const started = performance.now();
const seconds = (since: number) => `${((performance.now() - since) / 1000).toFixed(1)} s`;
const log = (line: string) => console.log(`[containers] ${line}`);

function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; quiet?: boolean; show?: boolean } = {}): string {
  const output = execFileSync(command, args, {
    cwd: repository,
    env: { ...process.env, ...options.env },
    encoding: 'utf8',
    stdio: ['ignore', options.show ? 'inherit' : 'pipe', options.quiet ? 'pipe' : 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return output ?? '';
}
const docker = (...args: string[]) => run(DOCKER, args, { quiet: true }).trim();
const engineAnswers = () => {
  try {
    docker('info', '--format', '{{.ServerVersion}}');
    return true;
  } catch {
    return false;
  }
};
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await sleep(1000);
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}

/** docker-compose.yaml as the smoke stack runs it: host networking, 127.0.0.1, the ports above. */
function smokeCompose(): string {
  const compose = parse(readFileSync(join(repository, 'docker-compose.yaml'), 'utf8'), { merge: true }) as {
    services: Record<string, Record<string, any>>;
    volumes: Record<string, unknown>;
  };
  const rewrite = (value: string) =>
    value
      .replaceAll('@postgres:5432', `@127.0.0.1:${PORTS.postgres}`)
      .replaceAll('redis://redis:6379', `redis://127.0.0.1:${PORTS.redis}`)
      .replaceAll('http://market:3100', `http://127.0.0.1:${PORTS.market}`)
      .replace(/localhost:(300[0-2])/g, (_, port: string) => `127.0.0.1:${Number(port) + 10_000}`);
  for (const [name, service] of Object.entries(compose.services)) {
    service.network_mode = 'host';
    delete service.ports;
    service.restart = 'no';
    for (const [key, value] of Object.entries(service.environment ?? {})) service.environment[key] = rewrite(String(value));
    if (service.build) {
      // Built once below with /usr/bin/docker (BuildKit); db-setup runs the orders-app image.
      const dockerfile: string = service.build.dockerfile;
      service.image = `${PROJECT}/${dockerfile.split('/').at(-2)}:latest`;
      delete service.build;
      if (name !== 'db-setup') {
        // The image's own HEALTHCHECK (no `test`), checked often so the stack comes up quickly.
        service.healthcheck = { interval: '2s', timeout: '5s', retries: 5, start_period: '60s' };
        service.stop_grace_period = `${GRACE_SECONDS}s`;
      }
    }
  }
  const { redis, postgres, market } = compose.services;
  redis!.image = `${BASE}/redis:7`;
  redis!.command = [...redis!.command, '--bind', '127.0.0.1', '--port', String(PORTS.redis)];
  redis!.healthcheck.test = ['CMD', 'redis-cli', '-p', String(PORTS.redis), 'ping'];
  postgres!.image = `${BASE}/postgres:15`;
  postgres!.command = [...postgres!.command, '-c', 'listen_addresses=127.0.0.1', '-p', String(PORTS.postgres)];
  postgres!.healthcheck.test = ['CMD', 'pg_isready', '-h', '127.0.0.1', '-p', String(PORTS.postgres), '-U', 'free_lunch', '-d', 'free_lunch'];
  market!.environment = { ...market!.environment, MARKET_HOST: '127.0.0.1', MARKET_PORT: String(PORTS.market) };
  for (const name of ['orders-app', 'kitchen-app', 'inventory-app'] as const) {
    Object.assign(compose.services[name]!.environment, { HOST: '127.0.0.1', PORT: String(PORTS[name]) });
  }
  Object.assign(compose.services['orders-app']!.environment, { MANAGER_TOKENS: MANAGER_TOKEN });
  Object.assign(compose.services['kitchen-app']!.environment, { COOK_TIME_MS: '200' });
  // JSON is YAML too, and keeps `no` and `yes` strings for compose v1's YAML 1.1 parser.
  return JSON.stringify(compose, null, 2);
}

let engine: ChildProcess | undefined;
const work = mkdtempSync(join(tmpdir(), 'free-lunch-smoke-'));
const composeFile = join(work, 'compose.smoke.yaml');
const compose = (...args: string[]) => run('docker-compose', ['--project-name', PROJECT, '--file', composeFile, ...args], { quiet: true });
const containerOf = (service: string) => docker('ps', '--all', '--quiet', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`);
const inspect = (container: string, format: string) => docker('inspect', '--format', format, container);

async function main(): Promise<void> {
  if (!engineAnswers()) {
    log('starting the Docker engine (dockerd --bridge=none)');
    engine = spawn('dockerd', ['--bridge=none'], { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
    await until('the Docker engine', 60_000, () => (engineAnswers() ? true : undefined));
  }

  let phase = performance.now();
  run('bash', ['scripts/container-base-images.sh'], { env: { DOCKER } });
  log(`base images: ${seconds(phase)}`);

  phase = performance.now();
  const sizes: string[] = [];
  for (const dockerfile of ['orders-app/Dockerfile', 'kitchen-app/Dockerfile', 'inventory-app/Dockerfile', 'packages/market-simulator/Dockerfile']) {
    const image = `${PROJECT}/${dockerfile.split('/').at(-2)}:latest`;
    const one = performance.now();
    run(DOCKER, ['build', '--network', 'host', '--quiet', '--build-arg', `NODE_BUILD_IMAGE=${NODE_IMAGE}`, '--build-arg', `NODE_RUNTIME_IMAGE=${NODE_IMAGE}`, '--file', dockerfile, '--tag', image, '.'], {
      env: { DOCKER_BUILDKIT: '1' },
      quiet: true,
    });
    sizes.push(`${image.split('/')[1]!.replace(':latest', '')} ${(Number(docker('image', 'inspect', '--format', '{{.Size}}', image)) / 1e6).toFixed(0)} MB in ${seconds(one)}`);
  }
  log(`service images: ${seconds(phase)} (${sizes.join(', ')})`);

  writeFileSync(composeFile, smokeCompose());
  phase = performance.now();
  compose('up', '--detach', '--no-build');
  for (const service of [...SERVICES, 'redis', 'postgres']) {
    await until(`${service} healthy`, 120_000, () => {
      const status = inspect(containerOf(service), '{{.State.Health.Status}}');
      if (status === 'unhealthy') throw new Error(`${service} is unhealthy: ${docker('logs', '--tail', '30', containerOf(service))}`);
      return status === 'healthy' ? true : undefined;
    });
  }
  const setup = containerOf('db-setup');
  if (inspect(setup, '{{.State.Status}} {{.State.ExitCode}}') !== 'exited 0') throw new Error(`db-setup did not succeed: ${inspect(setup, '{{.State.Status}} {{.State.ExitCode}}')}`);
  log(`stack healthy: ${seconds(phase)}`);

  for (const service of [...SERVICES, 'redis', 'postgres', 'db-setup']) {
    const mode = inspect(containerOf(service), '{{.HostConfig.NetworkMode}}');
    if (mode !== 'host') throw new Error(`${service} runs on the ${mode} network, not the host's`);
  }
  checked.push('every container on the host network');
  for (const service of SERVICES) {
    const container = containerOf(service);
    const uid = docker('exec', container, 'id', '-u');
    if (uid === '0') throw new Error(`${service} runs as root`);
    // Healthy by the image's own check: compose sets only its timing.
    const test = inspect(container, '{{json .Config.Healthcheck.Test}}');
    const image = docker('image', 'inspect', '--format', '{{json .Config.Healthcheck.Test}}', inspect(container, '{{.Config.Image}}'));
    if (test !== image) throw new Error(`${service}'s health check is not its image's: ${test}`);
  }
  checked.push('the 4 service containers non-root and healthy by their images\' HEALTHCHECK');

  const orders = `http://127.0.0.1:${PORTS['orders-app']}`;
  const inventory = `http://127.0.0.1:${PORTS['inventory-app']}`;
  const dashboard = await fetch(`${orders}/`);
  if (!dashboard.headers.get('content-type')?.startsWith('text/html')) throw new Error('orders-app does not serve the dashboard at /');
  phase = performance.now();
  const placed = await fetch(`${orders}/orders`, {
    method: 'POST',
    headers: { authorization: `Bearer ${MANAGER_TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ quantity: ORDERS }),
  });
  if (!placed.ok) throw new Error(`POST /orders answered ${placed.status}: ${await placed.text()}`);
  const ids = ((await placed.json()) as { orders: { id: string }[] }).orders.map(({ id }) => id);
  if (ids.length !== ORDERS) throw new Error(`POST /orders placed ${ids.length} orders, not ${ORDERS}`);
  await until(`${ORDERS} orders delivered`, 180_000, async () => {
    const statuses = await Promise.all(ids.map(async (id) => ((await (await fetch(`${orders}/orders/${id}`)).json()) as { status: string }).status));
    return statuses.every((status) => status === 'delivered') ? true : undefined;
  });
  const audit = await until('the stock audit', 30_000, async () => {
    const body = (await (await fetch(`${inventory}/stock/audit`)).json()) as { ok: boolean };
    return body.ok ? body : undefined;
  });
  log(`${ORDERS} orders delivered in ${seconds(phase)}; audit ${JSON.stringify(audit).length} bytes, ok`);
  checked.push(`${ORDERS} orders placed through the orders container all delivered`, 'the stock audit balanced');

  for (const service of SERVICES) {
    const container = containerOf(service);
    const stopping = performance.now();
    docker('stop', '--time', String(GRACE_SECONDS), container);
    const took = (performance.now() - stopping) / 1000;
    const exit = inspect(container, '{{.State.ExitCode}}');
    if (exit !== '0' || took >= GRACE_SECONDS) throw new Error(`${service} stopped with ${exit} after ${took.toFixed(1)} s (grace ${GRACE_SECONDS} s)`);
    log(`${service}: SIGTERM → exit 0 in ${took.toFixed(1)} s`);
  }
  checked.push(`SIGTERM stopping each service with exit 0 within its ${GRACE_SECONDS} s grace`);
  compose('down', '--volumes', '--remove-orphans');

  // The end-to-end pipeline with nothing answering at DATABASE_URL/REDIS_URL: the test suite's global
  // setup starts PostgreSQL and Redis with testcontainers instead.
  phase = performance.now();
  run('pnpm', ['exec', 'vitest', 'run', 'packages/stack/test/pipeline.e2e.test.ts'], {
    env: { DATABASE_URL: 'postgres://postgres@127.0.0.1:1/postgres', REDIS_URL: 'redis://127.0.0.1:1' },
    show: true,
  });
  log(`pipeline e2e on testcontainers: ${seconds(phase)}`);
  checked.push('the pipeline e2e test on testcontainers');
}

function cleanUp(): void {
  const attempt = (what: () => unknown) => {
    try {
      what();
    } catch {
      /* already gone */
    }
  };
  if (engineAnswers()) {
    attempt(() => compose('down', '--volumes', '--remove-orphans'));
    for (const image of docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `${PROJECT}/*`).split('\n').filter(Boolean)) attempt(() => docker('rmi', '--force', image));
    if (!keepBaseImages) {
      for (const image of docker('image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', `${BASE}/*`).split('\n').filter(Boolean)) attempt(() => docker('rmi', '--force', image));
      attempt(() => docker('builder', 'prune', '--all', '--force'));
    }
  }
  rmSync(work, { recursive: true, force: true });
  if (engine?.pid) {
    process.kill(engine.pid, 'SIGTERM');
    log('stopped the Docker engine it started');
  }
}

try {
  await main();
  cleanUp();
  console.log(`containers: ${checked.length} checks passed in ${seconds(started)}: ${checked.join('; ')}; left behind: ${keepBaseImages ? 'the base images and build cache' : 'nothing'}`);
} catch (error) {
  console.error(`[containers] FAILED: ${(error as Error).message}`);
  try {
    for (const service of [...SERVICES, 'db-setup']) {
      const container = containerOf(service);
      if (container) console.error(`--- ${service}\n${run(DOCKER, ['logs', '--tail', '20', container], { quiet: true })}`);
    }
  } catch {
    /* no logs to show */
  }
  cleanUp();
  process.exitCode = 1;
}
