import { setMaxListeners } from 'node:events';
import { Pool } from 'undici';
import type { Ingredient } from '@free-lunch/contracts';
import { marketFault, readMarketAnswer, type MarketAnswer } from '../domain/market-answer.js';

export interface MarketClientOptions {
  /** The market's buy endpoint; `?ingredient=<name>` is added per call. */
  url: string;
  /** Most calls in flight at once; also the number of kept-alive connections. */
  concurrency: number;
  /** Whole-call deadline: a market that has not answered in full by then is a fault. */
  timeoutMs: number;
  /** Largest sale taken at face value; above it the answer is absurd, hence a fault. */
  maxQuantity: number;
}

/** A market answer with the moment it came back (what the purchase history records). */
export type MarketCall = MarketAnswer & { ingredient: Ingredient; at: Date };

/** Calls starting within this long of each other share one deadline timer (so a call may get this much longer). */
const DEADLINE_SHARED_MS = 50;

/** Bodies longer than this cannot be `{"quantitySold": N}`; reading further is pointless. */
const MAX_BODY_BYTES = 4096;

/**
 * Buys from the farmers' market over kept-alive connections. `buy` never throws: whatever goes
 * wrong (refused connection, timeout, HTTP error, a body that breaks the contract) comes back as a
 * `fault` with the reason, so the purchaser records it and backs off instead of crashing a round.
 *
 * A benchmark burst makes tens of thousands of calls, so each is kept cheap: one connection pool for
 * the market's origin, each ingredient's path built once, and one deadline timer shared by the calls
 * that start within {@link DEADLINE_SHARED_MS} of each other instead of a timer and abort signal per
 * call, which would weigh as much as the call itself.
 */
export class MarketClient {
  readonly #pool: Pool;
  /** The buy path and query of each ingredient, built once. */
  readonly #paths = new Map<Ingredient, string>();
  readonly #url: URL;
  /** The deadline calls starting now share, and when it was made. */
  #deadline: { signal: AbortSignal; madeAt: number } | null = null;

  constructor(private readonly options: MarketClientOptions) {
    this.#url = new URL(options.url);
    this.#pool = new Pool(this.#url.origin, {
      connections: options.concurrency,
      keepAliveTimeout: 10_000,
      connect: { timeout: options.timeoutMs },
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
    });
  }

  /** One call for one ingredient: whatever the market sells right now. */
  async buy(ingredient: Ingredient): Promise<MarketCall> {
    const deadline = this.#sharedDeadline();
    let answer: MarketAnswer;
    try {
      const response = await this.#pool.request({ method: 'GET', path: this.#pathOf(ingredient), signal: deadline });
      // A body known to be small is read whole; anything else only up to the limit.
      const length = Number(response.headers['content-length']);
      const body = length <= MAX_BODY_BYTES ? await response.body.text() : await readLimited(response.body);
      answer = readMarketAnswer(response.statusCode, body, this.options.maxQuantity);
    } catch (error) {
      answer =
        deadline.aborted || isTimeout(error)
          ? marketFault(`no answer within ${this.options.timeoutMs} ms`)
          : marketFault(describe(error));
    }
    return { ...answer, ingredient, at: new Date() };
  }

  /**
   * An abort signal that fires `timeoutMs` after the call starts, or up to {@link DEADLINE_SHARED_MS}
   * later: calls starting within that time of each other share it.
   */
  #sharedDeadline(): AbortSignal {
    const now = performance.now();
    if (this.#deadline === null || now - this.#deadline.madeAt >= DEADLINE_SHARED_MS) {
      const signal = AbortSignal.timeout(this.options.timeoutMs + DEADLINE_SHARED_MS);
      // Every call in flight listens on it: a whole round's worth, not a leak.
      setMaxListeners(0, signal);
      this.#deadline = { signal, madeAt: now };
    }
    return this.#deadline.signal;
  }

  #pathOf(ingredient: Ingredient): string {
    let path = this.#paths.get(ingredient);
    if (path === undefined) {
      const built = new URL(this.#url);
      built.searchParams.set('ingredient', ingredient);
      path = `${built.pathname}${built.search}`;
      this.#paths.set(ingredient, path);
    }
    return path;
  }

  /** Closes the kept-alive connections; calls in flight are cut short and come back as faults. */
  async close(): Promise<void> {
    await this.#pool.destroy();
  }
}

async function readLimited(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      break;
    }
  }
  return Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY_BYTES);
}

function isTimeout(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code === 'UND_ERR_HEADERS_TIMEOUT' || code === 'UND_ERR_BODY_TIMEOUT' || code === 'UND_ERR_CONNECT_TIMEOUT';
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as { code?: string }).code;
    const cause = error.cause instanceof Error ? ` (${error.cause.message})` : '';
    return `${code ?? error.name}: ${error.message}${cause}`;
  }
  return String(error);
}
