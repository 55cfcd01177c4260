import net from 'node:net';
import { Redis, type RedisOptions } from 'ioredis';
import { testEnv } from './testing.js';

/**
 * A TCP proxy in front of the shared Redis that a test can unplug and plug back in, to make Redis
 * unreachable for one client without touching the server every other test uses.
 */
export class RedisProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly target = new URL(testEnv.redisUrl);
  private stalled = false;
  port = 0;

  static async start(): Promise<RedisProxy> {
    const proxy = new RedisProxy();
    await proxy.listen();
    return proxy;
  }

  /** A Redis URL that goes through this proxy, for an app under test. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** A client that reaches Redis through this proxy. */
  client(options: RedisOptions = {}): Redis {
    return new Redis({ host: '127.0.0.1', port: this.port, maxRetriesPerRequest: 3, ...options });
  }

  /** Refuses new connections and drops the open ones, as a crashed or unreachable Redis would. */
  async unplug(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /**
   * From now on new connections are accepted and never answered, as by a Redis that hangs; open
   * ones carry on. A client that reconnects now stays half-way, connected but never ready.
   */
  stallNewConnections(): void {
    this.stalled = true;
  }

  /** Accepts connections again, on the same port. */
  async plugIn(): Promise<void> {
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    await this.unplug();
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => {
      if (this.stalled) {
        this.sockets.add(client);
        client.on('error', () => client.destroy());
        return;
      }
      const upstream = net.connect(Number(this.target.port || 6379), this.target.hostname);
      for (const socket of [client, upstream]) {
        this.sockets.add(socket);
        // Either side going away takes the other with it, as a real connection loss would.
        const closeBoth = () => {
          this.sockets.delete(socket);
          client.destroy();
          upstream.destroy();
        };
        socket.on('close', closeBoth);
        socket.on('error', closeBoth);
      }
      client.pipe(upstream).pipe(client);
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }
}
