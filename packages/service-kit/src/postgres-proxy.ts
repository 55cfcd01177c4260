import net from 'node:net';

/** SSLRequest and GSSENCRequest: sent before the startup message; what follows may be encrypted. */
const ENCRYPTION_REQUESTS = new Set([80877103, 80877104]);

/** One message of the v3 protocol: its type byte and its body. */
interface Message {
  type: string;
  body: Buffer;
}

/**
 * Splits a byte stream into v3 protocol messages. The first message a client sends (startup, or a
 * request for encryption) has no type byte. Returns null for what it cannot read as messages (an
 * encrypted session, a bad length): the proxy then only forwards that connection's bytes.
 */
class MessageReader {
  #pending: Buffer = Buffer.alloc(0);
  #typed: boolean;
  #opaque = false;

  constructor({ typed }: { typed: boolean }) {
    this.#typed = typed;
  }

  /** The whole messages `chunk` completes; null once the stream is not readable as messages. */
  read(chunk: Buffer): Message[] | null {
    if (this.#opaque) return null;
    this.#pending = this.#pending.length === 0 ? chunk : Buffer.concat([this.#pending, chunk]);
    const messages: Message[] = [];
    for (;;) {
      const header = this.#typed ? 5 : 8;
      if (this.#pending.length < header) return messages;
      const length = this.#pending.readInt32BE(this.#typed ? 1 : 0);
      if (length < 4) return this.#giveUp();
      const size = length + (this.#typed ? 1 : 0);
      if (this.#pending.length < size) return messages;
      if (this.#typed) {
        messages.push({ type: String.fromCharCode(this.#pending[0]!), body: this.#pending.subarray(5, size) });
      } else if (ENCRYPTION_REQUESTS.has(this.#pending.readInt32BE(4))) {
        // The server answers with one untyped byte, then maybe TLS: nothing more to read here.
        return this.#giveUp();
      } else {
        this.#typed = true; // the startup message: every message after it has a type byte
      }
      this.#pending = this.#pending.subarray(size);
    }
  }

  #giveUp(): null {
    this.#opaque = true;
    this.#pending = Buffer.alloc(0);
    return null;
  }
}

/**
 * A TCP proxy in front of a PostgreSQL server, for the faults a test cannot cause on the server
 * every other test shares. It can be unplugged, as a restart or failover takes PostgreSQL away from
 * every client at once; and it can lose the server's answer to a COMMIT: the transaction commits,
 * then the connection drops before the client hears so. That is the one failure a retry must not
 * turn into doing the work twice, and no other fault shows it: a client whose connection breaks on
 * COMMIT cannot tell a lost transaction from a committed one.
 *
 * It reads the message framing of the v3 protocol (nothing more) and forwards every byte unchanged;
 * only a connection it cuts loses anything.
 */
export class PostgresProxy {
  private server: net.Server | null = null;
  private plugged = true;
  /** How to cut each open connection. */
  private readonly connections = new Set<() => void>();
  private readonly target: URL;
  /** Transactions that send this (a statement's name or SQL text) are watched; null: none. */
  private marker: Buffer | null = null;
  /** The next watched transaction to commit loses the answer. */
  private armed = false;
  private lost = 0;
  private committed = 0;
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
   * The next transaction that sends `marker` (a prepared statement's name, or text of its SQL) and
   * commits loses the answer: the connection is cut as the server answers COMMIT, before the client
   * reads it. Once; later such transactions go through and are counted by
   * {@link commitsAfterTheLoss}.
   */
  loseCommitAnswerOf(marker: string): void {
    this.marker = Buffer.from(marker);
    this.armed = true;
  }

  /** How many COMMIT answers this proxy has lost so far. */
  get commitAnswersLost(): number {
    return this.lost;
  }

  /** Transactions that sent the marker and committed, answer and all, since it lost an answer. */
  get commitsAfterTheLoss(): number {
    return this.committed;
  }

  /**
   * Drops every open connection and refuses new ones until {@link plugIn}, as a PostgreSQL
   * restarting or failing over does. Returns how many connections it dropped.
   */
  unplug(): number {
    this.plugged = false;
    const dropped = this.connections.size;
    for (const cut of [...this.connections]) cut();
    return dropped;
  }

  /** Accepts connections again. */
  plugIn(): void {
    this.plugged = true;
  }

  async close(): Promise<void> {
    this.unplug();
    const server = this.server;
    this.server = null;
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  }

  private listen(): Promise<void> {
    const server = net.createServer((client) => {
      // Unplugged, it keeps its port (so no one else takes it) but hangs up on every newcomer.
      if (this.plugged) this.relay(client);
      else client.destroy();
    });
    this.server = server;
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        this.port = (server.address() as net.AddressInfo).port;
        server.off('error', reject);
        server.on('error', () => undefined); // a listening server reports nothing a test could act on
        resolve();
      });
    });
  }

  private relay(client: net.Socket): void {
    const upstream = net.connect(Number(this.target.port || 5432), this.target.hostname);
    const closeBoth = () => {
      this.connections.delete(closeBoth);
      client.destroy();
      upstream.destroy();
    };
    this.connections.add(closeBoth);
    for (const socket of [client, upstream]) {
      // Either side going away takes the other with it, as a real connection loss would.
      socket.on('close', closeBoth);
      socket.on('error', closeBoth);
    }

    const fromClient = new MessageReader({ typed: false });
    const fromServer = new MessageReader({ typed: true });
    /** The transaction under way on this connection has sent the marker. */
    let watched = false;

    client.on('data', (chunk: Buffer) => {
      upstream.write(chunk);
      const messages = fromClient.read(chunk); // read always, to keep the framing
      const marker = this.marker;
      if (marker && messages?.some((message) => message.body.includes(marker))) watched = true;
    });
    upstream.on('data', (chunk: Buffer) => {
      for (const { type, body } of fromServer.read(chunk) ?? []) {
        if (type === 'C' && watched && body.toString('latin1').startsWith('COMMIT')) {
          if (this.armed) {
            // The server has committed and is answering; the client never reads it.
            this.armed = false;
            this.lost += 1;
            closeBoth();
            return;
          }
          this.committed += 1;
        }
        // ReadyForQuery, idle: the transaction is over, committed or not.
        if (type === 'Z' && body[0] === 0x49) watched = false;
      }
      client.write(chunk);
    });
  }
}
