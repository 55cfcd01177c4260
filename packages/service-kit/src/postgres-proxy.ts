import net from 'node:net';

/** SSLRequest and GSSENCRequest: sent before the startup message, which then follows, still untyped. */
const ENCRYPTION_REQUESTS = new Set([80877103, 80877104]);

/**
 * A TCP proxy in front of a PostgreSQL server, for the faults a test cannot cause on the server
 * every other test shares. It can be unplugged, as a restart or failover takes PostgreSQL away from
 * every client at once; and it can lose the server's answer to a COMMIT: the transaction commits,
 * then the connection drops before the client hears so. That is the one failure a retry must not
 * turn into doing the work twice, and no other fault shows it: a client whose connection breaks on
 * COMMIT cannot tell a lost transaction from a committed one.
 *
 * It reads what clients send (the message framing of the v3 protocol, nothing more) and forwards
 * every byte unchanged; only a connection it cuts loses anything.
 */
export class PostgresProxy {
  private server: net.Server | null = null;
  private readonly sockets = new Set<net.Socket>();
  private readonly target: URL;
  /** The statement name or text whose transaction loses its COMMIT's answer; null when unarmed. */
  private marker: Buffer | null = null;
  private lost = 0;
  port = 0;

  private constructor(databaseUrl: string) {
    this.target = new URL(databaseUrl);
  }

  /** A proxy to the server of `databaseUrl` (any database on it). */
  static async start(databaseUrl: string): Promise<PostgresProxy> {
    const proxy = new PostgresProxy(databaseUrl);
    await proxy.listen();
    return proxy;
  }

  /** `databaseUrl` (same user, database and options) reached through this proxy. */
  url(databaseUrl: string): string {
    const url = new URL(databaseUrl);
    url.hostname = '127.0.0.1';
    url.port = String(this.port);
    return url.toString();
  }

  /**
   * The next transaction that sends `marker` (a prepared statement's name, or text of its SQL)
   * commits, but its connection is cut as soon as the server answers the COMMIT, before the client
   * reads that answer. Once: later transactions go through.
   */
  loseCommitAnswerOf(marker: string): void {
    this.marker = Buffer.from(marker);
  }

  /** How many COMMIT answers this proxy has lost so far. */
  get commitAnswersLost(): number {
    return this.lost;
  }

  /** Refuses new connections and drops the open ones, as a PostgreSQL restarting or failing over does. */
  async unplug(): Promise<void> {
    const server = this.server;
    this.server = null;
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  /** Accepts connections again, on the same port. */
  async plugIn(): Promise<void> {
    if (!this.server) await this.listen();
  }

  async close(): Promise<void> {
    await this.unplug();
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
    const upstream = net.connect(Number(this.target.port || 5432), this.target.hostname);
    const closeBoth = () => {
      this.sockets.delete(client);
      this.sockets.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    for (const socket of [client, upstream]) {
      this.sockets.add(socket);
      socket.on('close', closeBoth);
      socket.on('error', closeBoth);
    }

    let pending = Buffer.alloc(0);
    let started = false;
    /** This connection's transaction sent the marker: its COMMIT's answer is to be lost. */
    let marked = false;
    /** The COMMIT went to the server: cut the connection when it answers. */
    let cutOnAnswer = false;

    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      pending = Buffer.concat([pending, chunk]);
      // Whole messages only; a message split across chunks waits for its rest.
      for (;;) {
        if (!started) {
          if (pending.length < 8) return;
          const length = pending.readInt32BE(0);
          if (pending.length < length) return;
          started = !ENCRYPTION_REQUESTS.has(pending.readInt32BE(4));
          pending = pending.subarray(length);
          continue;
        }
        if (pending.length < 5) return;
        const length = pending.readInt32BE(1) + 1;
        if (pending.length < length) return;
        const type = String.fromCharCode(pending[0]!);
        const body = pending.subarray(5, length);
        pending = pending.subarray(length);
        if (this.marker && body.includes(this.marker)) {
          this.marker = null;
          marked = true;
        }
        if (marked && type === 'Q' && /^\s*COMMIT\b/i.test(body.toString('utf8'))) cutOnAnswer = true;
      }
    });
    upstream.on('data', (chunk: Buffer) => {
      if (cutOnAnswer) {
        // The server has committed and is answering; the client never reads it.
        this.lost += 1;
        closeBoth();
        return;
      }
      client.write(chunk);
    });
  }
}
