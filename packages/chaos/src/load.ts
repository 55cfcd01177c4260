import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlaceOrdersResponse } from '@free-lunch/contracts';

/** A refusal no retry can change (a 4xx other than 429): the run's own mistake. */
export class LoadRefused extends Error {
  override name = 'LoadRefused';
}

/** How long one POST may take before it is given up and sent again. */
const REQUEST_TIMEOUT_MS = 10_000;
const FIRST_RETRY_MS = 200;
const MAX_RETRY_MS = 2_000;

/**
 * The orders of a chaos run, placed as a restaurant's till would: a chunk of `rate` orders every
 * second, each chunk one POST /orders with an Idempotency-Key of its own, sent again with the same
 * key after a network error, a 5xx or a 429 until the service accepts it, so a chunk is placed
 * exactly once however often its answer is lost. Open loop: a chunk still retrying never holds up
 * the next.
 */
export class OrderLoad {
  /** Ids of every order the service accepted. */
  readonly orderIds: string[] = [];
  /** When each accepted order was first asked for (its chunk's first POST), epoch ms. */
  readonly askedAt = new Map<string, number>();
  chunksSent = 0;
  retries = 0;
  #pending = new Set<Promise<void>>();
  #failure: Error | null = null;

  constructor(
    private readonly api: { ordersUrl: string; managerToken: string },
    private readonly rate: number,
    private readonly signal: AbortSignal,
  ) {
    // Every chunk being retried listens to the run's signal: during a long outage, a hundred or more.
    setMaxListeners(10_000, signal);
  }

  /** Chunks whose POST has not been accepted yet. */
  get retrying(): number {
    return this.#pending.size;
  }

  /** Places a chunk every second until `until` aborts. */
  start(until: AbortSignal): void {
    void this.place(until);
  }

  /** The first refusal, if any (checked while the run goes on). */
  refusal(): Error | null {
    return this.#failure;
  }

  private async place(until: AbortSignal): Promise<void> {
    const origin = performance.now();
    for (let tick = 0; !until.aborted && !this.signal.aborted; tick += 1) {
      this.send(this.rate);
      const wait = origin + (tick + 1) * 1_000 - performance.now();
      if (wait > 0) await sleep(wait, undefined, { signal: AbortSignal.any([until, this.signal]) }).catch(() => undefined);
    }
  }

  private send(quantity: number): void {
    this.chunksSent += 1;
    const chunk = this.placeChunk(quantity, randomUUID(), Date.now()).catch((error: Error) => {
      if (!this.signal.aborted) this.#failure ??= error;
    });
    const tracked = chunk.finally(() => this.#pending.delete(tracked));
    this.#pending.add(tracked);
  }

  private async placeChunk(quantity: number, idempotencyKey: string, askedAtMs: number): Promise<void> {
    for (let attempt = 0; ; attempt += 1) {
      if (attempt > 0) {
        this.retries += 1;
        await sleep(Math.min(MAX_RETRY_MS, FIRST_RETRY_MS * 2 ** (attempt - 1)), undefined, { signal: this.signal });
      }
      let status: number;
      let body: string;
      try {
        const response = await fetch(`${this.api.ordersUrl}/orders`, {
          method: 'POST',
          headers: {
            authorization: `Bearer ${this.api.managerToken}`,
            'content-type': 'application/json',
            'idempotency-key': idempotencyKey,
          },
          body: JSON.stringify({ quantity }),
          signal: AbortSignal.any([this.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]),
        });
        status = response.status;
        body = await response.text();
      } catch (error) {
        if (this.signal.aborted) throw error;
        continue; // refused, reset or timed out: the same key again
      }
      if (status === 202) {
        for (const { id } of PlaceOrdersResponse.parse(JSON.parse(body)).orders) {
          this.orderIds.push(id);
          this.askedAt.set(id, askedAtMs);
        }
        return;
      }
      if (status !== 429 && status < 500) throw new LoadRefused(`POST /orders answered ${status}: ${body.slice(0, 300)}`);
    }
  }
}
