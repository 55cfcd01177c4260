/**
 * How much of the time a crowd of callers may keep the database busy with this read: an answer is
 * kept at least this many times as long as reading it took.
 */
const KEEP_FOR_COST_TIMES = 20;

/**
 * One answer shared by every caller for `maxAgeMs`: the first caller after that starts the read,
 * callers arriving while it runs wait for the same one, so a crowd costs at most one query per
 * `maxAgeMs` whatever its size. A read that takes long (an aggregate over a table that grew) is kept
 * longer, {@link KEEP_FOR_COST_TIMES} times its duration, so that however hard it is asked for, it
 * keeps the database busy at most one part in twenty of the time. A read that fails is not kept;
 * the next caller tries again.
 */
export class SharedRead<T> {
  #latest: { value: T; startedAt: number; keepForMs: number } | undefined;
  #inFlight: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<T> {
    // Aged from when its read started: that is how old what it saw is.
    if (this.#latest && this.now() - this.#latest.startedAt < this.#latest.keepForMs) return Promise.resolve(this.#latest.value);
    return (this.#inFlight ??= this.#readNow());
  }

  #readNow(): Promise<T> {
    const startedAt = this.now();
    const done = () => (this.#inFlight = undefined);
    // Started on the next tick, so #inFlight is set before it can settle, even if `read` throws at once.
    return Promise.resolve()
      .then(() => this.read())
      .then(
        (value) => {
          const tookMs = this.now() - startedAt;
          this.#latest = { value, startedAt, keepForMs: Math.max(this.maxAgeMs, KEEP_FOR_COST_TIMES * tookMs) };
          done();
          return value;
        },
        (error: unknown) => {
          done();
          throw error;
        },
      );
  }
}
