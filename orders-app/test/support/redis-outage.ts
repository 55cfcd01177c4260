import net from 'node:net';
import { testEnv } from '@free-lunch/service-kit/testing';

/**
 * A TCP hop in front of the shared Redis that a test can take down and bring back, so Redis becomes
 * unreachable for one app only. Down, it drops every open connection and refuses new ones, as a
 * Redis that crashed or fell off the network does; back up, it listens on the same port again.
 */
export class RedisOutage {
  private readonly sockets = new Set<net.Socket>();
  private readonly target = new URL(testEnv.redisUrl);
  private server: net.Server | null = null;
  private port = 0;

  static async start(): Promise<RedisOutage> {
    const outage = new RedisOutage();
    await outage.listen();
    return outage;
  }

  /** A Redis URL that goes through this hop. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Redis goes away: open connections drop and new ones are refused. */
  async begin(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Redis is back. */
  async end(): Promise<void> {
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    await this.begin();
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => this.relay(client));
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        resolve();
      });
    });
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(Number(this.target.port || 6379), this.target.hostname);
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      const closeBoth = () => {
        this.sockets.delete(socket);
        client.destroy();
        upstream.destroy();
      };
      socket.on('close', closeBoth);
      socket.on('error', closeBoth);
    }
    client.pipe(upstream).pipe(client);
  }
}
