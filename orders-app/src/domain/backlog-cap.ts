export interface BacklogCapOptions {
  /** Most orders that may be placed and not yet delivered at once (MAX_OUTSTANDING_ORDERS). */
  max: number;
  /** Counts the orders not yet delivered, across every replica. */
  countUndelivered: () => Promise<number>;
  /** How old a count may be before it is taken again; default 500 ms. */
  refreshMs?: number;
  now?: () => number;
}

/** Orders let through the cap, until their transaction commits or fails. */
export interface Admission {
  /** The orders were stored: they count as outstanding until the next count sees them. */
  placed(): void;
  /** Nothing was stored; the room is given back. */
  cancelled(): void;
}

/**
 * Keeps the restaurant from taking more orders than its kitchen backlog may hold. Counting the
 * undelivered orders costs an index scan, so it is not done per request: the cap holds the last
 * count, taken at most every `refreshMs` by one query whoever asks, and adds what this replica
 * placed since that count started and what it is placing right now. Within one replica the cap is
 * never exceeded; replicas see each other's orders at their next count, so across them it is soft
 * by what the others place in one refresh.
 */
export class BacklogCap {
  readonly refreshMs: number;
  readonly max: number;
  #counted: { undelivered: number; at: number; placedBefore: number } | undefined;
  #counting: Promise<void> | undefined;
  /** Every order this replica placed since it started; the count subtracts those it already saw. */
  #placed = 0;
  /** Admitted and not yet stored or cancelled. */
  #admitting = 0;

  constructor(private readonly options: BacklogCapOptions) {
    this.refreshMs = options.refreshMs ?? 500;
    this.max = options.max;
  }

  /**
   * Room for `quantity` more orders, or null when the backlog is full. Admitting never waits for
   * a count once there is one: a stale count is refreshed in the background and, while it is, only
   * a refusal waits for the fresh one, so an order is not turned away on a count older than
   * `refreshMs` and deliveries reopen the door at once.
   */
  async admit(quantity: number): Promise<Admission | null> {
    if (!this.#counted) await this.#recount();
    else if (this.#isStale()) void this.#recount().catch(() => {}); // a failed count is retried by the next caller
    if (!this.#fits(quantity) && this.#counting) await this.#counting;
    if (!this.#fits(quantity)) return null;

    this.#admitting += quantity;
    let settled = false;
    const settle = (placed: boolean) => {
      if (settled) return;
      settled = true;
      this.#admitting -= quantity;
      if (placed) this.#placed += quantity;
    };
    return { placed: () => settle(true), cancelled: () => settle(false) };
  }

  /** Orders not yet delivered as far as this replica knows, those being placed included. */
  outstanding(): number {
    const counted = this.#counted;
    if (!counted) return this.#admitting;
    return counted.undelivered + (this.#placed - counted.placedBefore) + this.#admitting;
  }

  #fits(quantity: number): boolean {
    return this.outstanding() + quantity <= this.max;
  }

  #isStale(): boolean {
    return this.#now() - this.#counted!.at >= this.refreshMs;
  }

  #recount(): Promise<void> {
    if (this.#counting) return this.#counting;
    // Orders placed before the count starts are in it (they committed first); those that commit
    // while it runs may be counted twice until the next count, which errs on the safe side.
    const at = this.#now();
    const placedBefore = this.#placed;
    const counting = Promise.resolve()
      .then(() => this.options.countUndelivered())
      .then((undelivered) => {
        this.#counted = { undelivered, at, placedBefore };
      })
      .finally(() => {
        this.#counting = undefined;
      });
    this.#counting = counting;
    return counting;
  }

  #now(): number {
    return this.options.now ? this.options.now() : performance.now();
  }
}
