import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import pg from 'pg';
import { provisionRedisUsers, removeRedisUsers, serviceDatabaseEnv } from '@free-lunch/service-kit';
import { PostgresProxy, RedisProxy } from '@free-lunch/service-kit/testing';
import { FreeLunchClient, freePort, startServiceProcess, type ServiceName, type ServiceProcess } from '@free-lunch/stack/processes';

export interface ChaosStackOptions {
  /** An admin's URL of the PostgreSQL server (any database on it; the run creates and drops its own). */
  databaseUrl: string;
  /** Redis to use; the run keeps to a key prefix of its own and deletes its keys afterwards. */
  redisUrl: string;
  kitchens: number;
  inventories: number;
  /** Every market answer waits this long, so purchases are in flight when a warehouse dies. */
  marketLatencyMs: number;
  /**
   * Route the services' PostgreSQL connections through a proxy the run can unplug (an outage
   * without touching the server). Off when the outage stops the server itself.
   */
  postgresProxy: boolean;
  /**
   * Log the services in to Redis as users of the run's own (as `pnpm start` does), whose connections
   * a fault cuts by user; otherwise as REDIS_URL's user through a proxy the fault unplugs.
   */
  redisUsers: boolean;
  /** Extra environment for the three services. */
  serviceEnv: Record<string, string>;
  log: (line: string) => void;
}

/** A service process the run may kill and start again on the same port with the same environment. */
interface Member {
  label: string;
  name: ServiceName;
  port: number;
  env: Record<string, string>;
  process: ServiceProcess | null;
  /** Down on purpose (killed by a fault, or stopping): its exit is no crash. */
  expectedDown: boolean;
}

/** A service process that exited without the run killing it. */
export interface Crash {
  label: string;
  atMs: number;
  exit: string;
  /** The tail of what it printed. */
  output: string;
}

/** Seconds a crashed process stays down before the stack starts it again, as an orchestrator would. */
const CRASH_RESTART_MS = 1_000;

/**
 * A Free Lunch stack of its own for one chaos run: a fresh database (`fl_chaos_<random>`) with the
 * services' least-privilege roles, a Redis key prefix and Redis users nobody else has, the market
 * simulator and the three services as separate processes on free ports. Unlike the benchmark's, its
 * processes can be killed and started again, its PostgreSQL can be unplugged through a proxy, and
 * its Redis connections cut by user. `stop()` takes all of it down whatever state the run ended in.
 */
export class ChaosStack {
  readonly databaseName = `fl_chaos_${randomBytes(5).toString('hex')}`;
  readonly keyPrefix = `chaos:${randomBytes(5).toString('hex')}:`;
  /** Prefix of the run's Redis users (`<prefix>-orders`, …): what CLIENT KILL USER names. */
  readonly redisUserPrefix = `chaos${randomBytes(5).toString('hex')}`;
  readonly managerToken = randomBytes(32).toString('base64url');
  readonly crashes: Crash[] = [];
  #members = new Map<string, Member>();
  #market: ServiceProcess | null = null;
  #postgresProxy: PostgresProxy | null = null;
  #redisProxy: RedisProxy | null = null;
  #redisUsers = false;
  #databaseCreated = false;
  #starting: Promise<void> | null = null;
  #stopping: Promise<void> | null = null;
  #restarts = new Set<Promise<unknown>>();
  #closing = false;

  constructor(private readonly options: ChaosStackOptions) {}

  /** The public API: orders, and the first kitchen and warehouse for reads. */
  get client(): FreeLunchClient {
    const url = (label: string) => `http://127.0.0.1:${this.member(label).port}`;
    return new FreeLunchClient({ orders: url('orders'), kitchen: url('kitchen-1'), inventory: url('inventory-1') }, this.managerToken);
  }

  /** Base URL of the market simulator (`/stats`, `/config`). */
  get marketUrl(): string {
    if (!this.#market) throw new Error('the chaos stack is not started');
    return this.#market.url;
  }

  /** The proxy the services reach PostgreSQL through, when there is one. */
  get postgresProxy(): PostgresProxy | null {
    return this.#postgresProxy;
  }

  /** The proxy the services reach Redis through, when the server refused per-run users. */
  get redisProxy(): RedisProxy | null {
    return this.#redisProxy;
  }

  /** Whether the services log in to Redis as the run's own users (so their connections can be cut by user). */
  get redisUsers(): boolean {
    return this.#redisUsers;
  }

  /** URL of the run's database as the admin. */
  get adminDatabaseUrl(): string {
    return this.databaseUrl(this.databaseName);
  }

  labels(): string[] {
    return [...this.#members.keys()];
  }

  /** Starts everything; whether it resolves or throws, call `stop()` afterwards. */
  start(): Promise<void> {
    this.#starting ??= this.launchAll();
    return this.#starting;
  }

  private async launchAll(): Promise<void> {
    await this.admin((client) => client.query(`CREATE DATABASE ${this.databaseName}`));
    this.#databaseCreated = true;
    if (this.options.postgresProxy) this.#postgresProxy = await PostgresProxy.start(this.options.databaseUrl);
    const redisUrls = await this.redisAccess();
    const marketPort = await freePort();
    this.#market = await startServiceProcess('market', marketPort, {
      LOG_LEVEL: 'warn',
      MARKET_LATENCY_MS: String(this.options.marketLatencyMs),
    });
    const viaProxy = (url: string) => this.#postgresProxy?.url(url) ?? url;
    const databaseEnv = async (schema: 'orders' | 'kitchen' | 'inventory') => {
      const { DATABASE_URL, MIGRATION_DATABASE_URL } = await serviceDatabaseEnv(this.adminDatabaseUrl, schema);
      return { DATABASE_URL: viaProxy(DATABASE_URL), MIGRATION_DATABASE_URL: viaProxy(MIGRATION_DATABASE_URL), REDIS_URL: redisUrls[schema] };
    };
    const env = {
      KEY_PREFIX: this.keyPrefix,
      MANAGER_TOKEN: this.managerToken,
      MARKET_URL: `${this.#market.url}/api/farmers-market/buy`,
      LOG_LEVEL: 'warn',
      ...this.options.serviceEnv,
    };
    const members: Array<[ServiceName, string, Record<string, string>]> = [];
    const orders = await databaseEnv('orders');
    const kitchen = await databaseEnv('kitchen');
    const inventory = await databaseEnv('inventory');
    for (let i = 1; i <= this.options.inventories; i += 1) members.push(['inventory', `inventory-${i}`, { ...env, ...inventory }]);
    for (let i = 1; i <= this.options.kitchens; i += 1) members.push(['kitchen', `kitchen-${i}`, { ...env, ...kitchen }]);
    members.push(['orders', 'orders', { ...env, ...orders }]);
    for (const [name, label, memberEnv] of members) {
      this.#members.set(label, { label, name, port: await freePort(), env: memberEnv, process: null, expectedDown: false });
    }
    // All at once: migrations take an advisory lock, so replicas of a service wait their turn.
    const launches = await Promise.allSettled(members.map(([, label]) => this.launch(this.member(label))));
    const failed = launches.find((launch) => launch.status === 'rejected');
    if (failed) throw failed.reason;
  }

  /** SIGKILL: the process dies mid-work, holding whatever it had not acknowledged. */
  async kill(label: string): Promise<void> {
    const member = this.member(label);
    member.expectedDown = true;
    await member.process?.kill();
    member.process = null;
  }

  /** Starts a killed process again, on its port with its environment; resolves once it is ready. */
  async restart(label: string): Promise<void> {
    const member = this.member(label);
    if (member.process || this.#closing) return;
    await this.launch(member);
  }

  /** Stops every process of a service gracefully (SIGTERM), for good: the run is reading its results. */
  async stopAll(service: ServiceName): Promise<void> {
    const members = [...this.#members.values()].filter((member) => member.name === service);
    for (const member of members) member.expectedDown = true;
    await Promise.all(members.flatMap((member) => (member.process ? [stopWithin(member.process, 15_000)] : [])));
    for (const member of members) member.process = null;
  }

  /**
   * From now on a process that exits is not restarted nor counted as a crash: the run is ending.
   * Called as soon as the user interrupts, since Ctrl-C at a terminal reaches the services too.
   */
  closing(): void {
    this.#closing = true;
  }

  /** Stops every process, then drops the database, deletes the keys and the Redis users. Safe to call twice. */
  stop(): Promise<void> {
    this.#stopping ??= this.shutdown();
    return this.#stopping;
  }

  /** Ends every process at once, without a graceful stop (a second Ctrl-C). */
  killAll(): void {
    this.#closing = true;
    for (const member of this.#members.values()) {
      member.expectedDown = true;
      member.process?.child.kill('SIGKILL');
    }
    this.#market?.child.kill('SIGKILL');
  }

  private async shutdown(): Promise<void> {
    this.#closing = true;
    await this.#starting?.catch(() => undefined);
    await Promise.allSettled([...this.#restarts]);
    // Whatever a fault left unplugged is plugged back in: a graceful stop needs its stores.
    this.#postgresProxy?.plugIn();
    await this.#redisProxy?.plugIn();
    const members = [...this.#members.values()];
    for (const member of members) member.expectedDown = true;
    // Services before the market: a warehouse mid-round must still get its answers.
    await Promise.all(members.flatMap((member) => (member.process ? [stopWithin(member.process, 15_000)] : [])));
    if (this.#market) await stopWithin(this.#market, 15_000);
    await this.#postgresProxy?.close();
    await this.#redisProxy?.close();
    const tidy = async (what: string, work: () => Promise<unknown>) =>
      work().catch((error: Error) => this.options.log(`could not ${what}: ${error.message}`));
    if (this.#databaseCreated) {
      await tidy(`drop database ${this.databaseName}`, () =>
        this.admin((client) => client.query(`DROP DATABASE IF EXISTS ${this.databaseName} WITH (FORCE)`)),
      );
    }
    await tidy(`delete ${this.keyPrefix}*`, () => this.deleteKeys());
    if (this.#redisUsers) await tidy('remove the Redis users', () => removeRedisUsers(this.options.redisUrl, this.redisUserPrefix));
  }

  private async launch(member: Member): Promise<void> {
    const process = await startServiceProcess(member.name, member.port, member.env);
    member.process = process;
    member.expectedDown = false;
    process.child.once('exit', (code, signal) => {
      if (member.expectedDown || this.#closing) return;
      member.process = null;
      this.crashes.push({ label: member.label, atMs: Date.now(), exit: String(code ?? signal), output: process.output().slice(-2_000) });
      this.options.log(`!! ${member.label} exited on its own (${code ?? signal}); starting it again`);
      const restart = new Promise((resolve) => setTimeout(resolve, CRASH_RESTART_MS))
        .then(() => (this.#closing ? undefined : this.launch(member)))
        .catch((error: Error) => this.options.log(`!! ${member.label} did not start again: ${error.message.split('\n')[0]}`))
        .finally(() => this.#restarts.delete(restart));
      this.#restarts.add(restart);
    });
  }

  /**
   * Each service's REDIS_URL. As a Redis user of the run's own, like `pnpm start`'s, so a fault can
   * cut exactly the services' connections (CLIENT KILL USER); when told not to, or when the server
   * refuses ACL SETUSER, as REDIS_URL's user through a proxy the run can unplug instead.
   */
  private async redisAccess(): Promise<Record<'orders' | 'kitchen' | 'inventory', string>> {
    if (!this.options.redisUsers) return this.redisThroughProxy();
    try {
      const urls = await provisionRedisUsers(this.options.redisUrl, this.keyPrefix, { userPrefix: this.redisUserPrefix });
      this.#redisUsers = true;
      return urls;
    } catch (error) {
      this.options.log(`Redis refused per-run users (${(error as Error).message}); the services reach Redis through a proxy`);
      return this.redisThroughProxy();
    }
  }

  private async redisThroughProxy(): Promise<Record<'orders' | 'kitchen' | 'inventory', string>> {
    this.#redisProxy = await RedisProxy.start();
    const url = this.#redisProxy.url;
    return { orders: url, kitchen: url, inventory: url };
  }

  private member(label: string): Member {
    const member = this.#members.get(label);
    if (!member) throw new Error(`no process ${label} in the chaos stack`);
    return member;
  }

  private databaseUrl(database: string): string {
    const url = new URL(this.options.databaseUrl);
    url.pathname = `/${database}`;
    return url.toString();
  }

  private async admin<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    const client = new pg.Client({ connectionString: this.databaseUrl('postgres') });
    client.on('error', () => undefined);
    await client.connect();
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
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

async function stopWithin(process: ServiceProcess, ms: number): Promise<void> {
  const timer = setTimeout(() => process.child.kill('SIGKILL'), ms);
  try {
    await process.stop();
  } finally {
    clearTimeout(timer);
  }
}
