import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { orderStatuses } from '@free-lunch/contracts';
import { serviceDatabaseEnv } from '@free-lunch/service-kit';
import { FreeLunchClient, freePort, startServiceProcess, type ServiceName, type ServiceProcess } from '@free-lunch/stack';

/** Preloaded into profiled services: writes a CPU profile when the process exits. */
const CPU_PROFILER = fileURLToPath(new URL('./cpu-profiler.mjs', import.meta.url));

export interface BenchStackOptions {
  /** PostgreSQL server to use (any database on it; the bench creates and drops its own). */
  databaseUrl: string;
  /** Redis to use; the bench keeps to a key prefix of its own and deletes its keys afterwards. */
  redisUrl: string;
  kitchens: number;
  inventories: number;
  /** Every market answer waits this long (the simulator's MARKET_LATENCY_MS). */
  marketLatencyMs: number;
  cookTimeMs: number;
  /** Largest POST /orders quantity the orders service accepts. */
  maxOrderQuantity: number;
  /** Extra environment for the three services (tuning experiments, e.g. DB_POOL_SIZE). */
  serviceEnv: Record<string, string>;
  /** PostgreSQL settings for every session on the run's database (ALTER DATABASE … SET), e.g. log_min_duration_statement. */
  databaseSettings: Record<string, string>;
  /** Services to profile; each process writes a .cpuprofile under `dir/<label>/` when it stops. */
  profile: { services: string[]; dir: string };
  /** Keep the database and the Redis keys after the run, to look at them. */
  keep: boolean;
  log: (line: string) => void;
}

/** A running process of the stack, named for the reports: `orders`, `kitchen-2`, `market`, … */
export interface LabelledProcess {
  label: string;
  process: ServiceProcess;
}

/**
 * A Free Lunch stack of its own for one benchmark run: a fresh database (`fl_bench_<random>`), a
 * Redis key prefix nobody else uses, the market simulator and the three services as separate
 * processes on free ports of 127.0.0.1 — so a run never touches `pnpm start`'s data or another
 * run's. `stop()` takes all of it down again, whatever state the run ended in.
 */
export class BenchStack {
  readonly processes: LabelledProcess[] = [];
  readonly databaseName = `fl_bench_${randomBytes(5).toString('hex')}`;
  readonly keyPrefix = `bench:${randomBytes(5).toString('hex')}:`;
  readonly managerToken = randomBytes(32).toString('base64url');
  #databaseCreated = false;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #client: FreeLunchClient | null = null;
  #marketUrl = '';

  constructor(private readonly options: BenchStackOptions) {}

  /** The public API of this stack (the first kitchen and inventory answer their reads). */
  get client(): FreeLunchClient {
    if (!this.#client) throw new Error('the bench stack is not started');
    return this.#client;
  }

  /** Base URL of the market simulator (its `/stats` counts the calls). */
  get marketUrl(): string {
    return this.#marketUrl;
  }

  /**
   * Starts everything. Whether it resolves or throws, call `stop()` afterwards: it waits for a
   * start still under way and takes down whatever did start.
   */
  start(): Promise<void> {
    this.#starting ??= this.launchAll();
    return this.#starting;
  }

  private async launchAll(): Promise<void> {
    await this.createDatabase();
    const market = await this.launch('market', 'market', {
      LOG_LEVEL: 'warn',
      MARKET_LATENCY_MS: String(this.options.marketLatencyMs),
    });
    this.#marketUrl = market.url;
    // Each service as in production: its own PostgreSQL roles, provisioned here as the admin.
    const adminUrl = this.databaseUrl(this.databaseName);
    const database = {
      orders: await serviceDatabaseEnv(adminUrl, 'orders'),
      kitchen: await serviceDatabaseEnv(adminUrl, 'kitchen'),
      inventory: await serviceDatabaseEnv(adminUrl, 'inventory'),
    };
    const env = {
      REDIS_URL: this.options.redisUrl,
      KEY_PREFIX: this.keyPrefix,
      MANAGER_TOKEN: this.managerToken,
      MARKET_URL: `${market.url}/api/farmers-market/buy`,
      MAX_ORDER_QUANTITY: String(this.options.maxOrderQuantity),
      COOK_TIME_MS: String(this.options.cookTimeMs),
      LOG_LEVEL: 'warn',
      ...this.options.serviceEnv,
    };
    // All at once: migrations take an advisory lock, so replicas of a service wait their turn.
    const launches = await Promise.allSettled([
      ...replicas('inventory', this.options.inventories).map((label) => this.launch('inventory', label, { ...env, ...database.inventory })),
      ...replicas('kitchen', this.options.kitchens).map((label) => this.launch('kitchen', label, { ...env, ...database.kitchen })),
      this.launch('orders', 'orders', { ...env, ...database.orders }),
    ]);
    const failed = launches.find((launch) => launch.status === 'rejected');
    if (failed) throw failed.reason;
    const urlOf = (label: string) => this.processes.find((started) => started.label === label)!.process.url;
    this.#client = new FreeLunchClient(
      { orders: urlOf('orders'), kitchen: urlOf('kitchen-1'), inventory: urlOf('inventory-1') },
      this.managerToken,
    );
  }

  /** pid of each process, by label, for the sampler. */
  pids(): Record<string, number> {
    return Object.fromEntries(this.processes.map(({ label, process }) => [label, process.child.pid!]));
  }

  /**
   * Stops every process (SIGTERM, then SIGKILL for one that does not leave within 15 s), then
   * drops the database and deletes the Redis keys. Safe to call more than once and from a signal
   * handler: later calls wait for the first.
   */
  stop(): Promise<void> {
    this.#stopping ??= this.shutdown();
    return this.#stopping;
  }

  /** Ends every process at once, without waiting for a graceful stop (a second Ctrl-C). */
  killAll(): void {
    for (const { process } of this.processes) process.child.kill('SIGKILL');
  }

  private async shutdown(): Promise<void> {
    await this.#starting?.catch(() => undefined);
    // Services before the market: a warehouse mid-round must still get its answers.
    const services = this.processes.filter(({ label }) => label !== 'market');
    await Promise.all(services.map(({ process }) => stopWithin(process, 15_000)));
    await Promise.all(this.processes.filter(({ label }) => label === 'market').map(({ process }) => stopWithin(process, 15_000)));
    if (this.options.keep) {
      this.options.log(`kept database ${this.databaseName} and Redis keys ${this.keyPrefix}*`);
      return;
    }
    await this.dropDatabase().catch((error: Error) => this.options.log(`could not drop ${this.databaseName}: ${error.message}`));
    await this.deleteKeys().catch((error: Error) => this.options.log(`could not delete ${this.keyPrefix}*: ${error.message}`));
  }

  private async launch(name: ServiceName, label: string, env: Record<string, string>): Promise<ServiceProcess> {
    const profiled = this.options.profile.services.some((service) => label === service || label.startsWith(`${service}-`));
    const nodeOptions: Record<string, string> = {};
    if (profiled) {
      const directory = join(this.options.profile.dir, label);
      mkdirSync(directory, { recursive: true });
      nodeOptions.NODE_OPTIONS = `--import ${CPU_PROFILER}`;
      nodeOptions.BENCH_CPU_PROFILE_DIR = directory;
    }
    const port = await freePort();
    const process = await startServiceProcess(name, port, { ...env, ...nodeOptions });
    this.processes.push({ label, process });
    return process;
  }

  /**
   * Transactions the run's database has committed or rolled back so far, every service together
   * (pg_stat_database; a backend reports its counts when it goes idle, so read after a pause).
   */
  async transactions(): Promise<number> {
    return this.admin(async (client) => {
      const { rows } = await client.query<{ count: string }>(
        'SELECT xact_commit + xact_rollback AS count FROM pg_stat_database WHERE datname = $1',
        [this.databaseName],
      );
      return Number(rows[0]?.count ?? 0);
    });
  }

  /**
   * Per order, the milliseconds between consecutive statuses of its timeline (as the orders service
   * recorded them), keyed by the status reached, e.g. `cooking` is awaiting_ingredients → cooking.
   */
  async stageDurations(orderIds: readonly string[]): Promise<Record<string, number[]>> {
    const client = new pg.Client({ connectionString: this.databaseUrl(this.databaseName) });
    await client.connect();
    try {
      const { rows } = await client.query<{ status: string; ms: number }>(
        `SELECT status, (extract(epoch FROM at - lag(at) OVER (PARTITION BY order_id ORDER BY at, array_position($2::text[], status))) * 1000)::float8 AS ms
           FROM orders.order_timeline WHERE order_id = ANY($1::uuid[])`,
        [orderIds, orderStatuses],
      );
      const stages: Record<string, number[]> = {};
      for (const { status, ms } of rows) if (ms !== null) (stages[status] ??= []).push(ms);
      return stages;
    } finally {
      await client.end();
    }
  }

  private databaseUrl(database: string): string {
    const url = new URL(this.options.databaseUrl);
    url.pathname = `/${database}`;
    return url.toString();
  }

  private async admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.databaseUrl('postgres') });
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end();
    }
  }

  private async createDatabase(): Promise<void> {
    await this.admin(async (client) => {
      await client.query(`CREATE DATABASE ${this.databaseName}`);
      this.#databaseCreated = true;
      for (const [name, value] of Object.entries(this.options.databaseSettings)) {
        await client.query(`ALTER DATABASE ${this.databaseName} SET ${pg.escapeIdentifier(name)} = ${pg.escapeLiteral(value)}`);
      }
    });
  }

  private async dropDatabase(): Promise<void> {
    if (!this.#databaseCreated) return;
    await this.admin((client) => client.query(`DROP DATABASE IF EXISTS ${this.databaseName} WITH (FORCE)`));
  }

  private async deleteKeys(): Promise<void> {
    const redis = new Redis(this.options.redisUrl, { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    try {
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${this.keyPrefix}*`, 'COUNT', 1000);
        cursor = next;
        if (keys.length > 0) await redis.unlink(...keys);
      } while (cursor !== '0');
    } finally {
      redis.disconnect();
    }
  }
}

function replicas(service: string, count: number): string[] {
  return Array.from({ length: count }, (_, i) => `${service}-${i + 1}`);
}

async function stopWithin(process: ServiceProcess, ms: number): Promise<void> {
  const timer = setTimeout(() => process.child.kill('SIGKILL'), ms);
  try {
    await process.stop();
  } finally {
    clearTimeout(timer);
  }
}
