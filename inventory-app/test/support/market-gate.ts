import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

interface HeldCall {
  path: string;
  response: ServerResponse;
  /** The market's answer, when it was asked on arrival. */
  answer: Promise<{ status: number; body: string }> | null;
}

/**
 * A gate in front of the market: it passes calls through, or holds them, so a test can stop a
 * warehouse in the middle of a round at a moment of its choosing. A held call is either not asked of
 * the market yet (the market does not count it until it is released) or asked at once with its
 * answer held back (the market counts a call the warehouse never hears the answer of).
 */
export class MarketGate {
  #mode: 'pass' | 'hold' | 'hold-answers' = 'pass';
  readonly #held: HeldCall[] = [];

  private constructor(
    private readonly server: Server,
    private readonly marketBaseUrl: string,
  ) {}

  /** Opens a gate on a free port of 127.0.0.1 in front of the market at `marketBaseUrl`. */
  static async open(marketBaseUrl: string): Promise<MarketGate> {
    const server = createServer();
    const gate = new MarketGate(server, marketBaseUrl);
    server.on('request', (request: IncomingMessage, response: ServerResponse) => gate.onCall(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    return gate;
  }

  /** The gate's base URL: the market's paths work on it. */
  get baseUrl(): string {
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Calls held now. */
  get held(): number {
    return this.#held.length;
  }

  /** From now on, hold each call; with `askMarket`, ask the market at once and hold its answer back. */
  hold({ askMarket }: { askMarket: boolean }): void {
    this.#mode = askMarket ? 'hold-answers' : 'hold';
  }

  /** Lets `count` held calls through, oldest first, and goes on holding new ones. */
  release(count: number): void {
    for (const call of this.#held.splice(0, count)) void this.#answer(call);
  }

  /** Passes every call from now on, held ones included. */
  open(): void {
    this.#mode = 'pass';
    this.release(this.#held.length);
  }

  async close(): Promise<void> {
    for (const call of this.#held.splice(0)) call.response.destroy();
    this.server.closeAllConnections();
    await new Promise((resolve) => this.server.close(resolve));
  }

  private onCall(request: IncomingMessage, response: ServerResponse): void {
    const path = request.url ?? '/';
    const call: HeldCall = { path, response, answer: null };
    if (this.#mode === 'pass') {
      void this.#answer(call);
      return;
    }
    if (this.#mode === 'hold-answers') call.answer = this.#ask(path);
    this.#held.push(call);
    // A caller that hung up (a killed warehouse) has nothing left to hold.
    response.once('close', () => {
      const index = this.#held.indexOf(call);
      if (index >= 0) this.#held.splice(index, 1);
    });
  }

  async #ask(path: string): Promise<{ status: number; body: string }> {
    const answer = await fetch(`${this.marketBaseUrl}${path}`);
    return { status: answer.status, body: await answer.text() };
  }

  async #answer(call: HeldCall): Promise<void> {
    try {
      const { status, body } = await (call.answer ?? this.#ask(call.path));
      call.response.writeHead(status, { 'content-type': 'application/json' }).end(body);
    } catch {
      call.response.destroy();
    }
  }
}
