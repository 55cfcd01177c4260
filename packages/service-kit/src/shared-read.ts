/**
 * One answer shared by every caller for `maxAgeMs`: the first caller after that starts the read,
 * callers arriving while it runs wait for the same one, so a crowd costs at most one query per
 * `maxAgeMs` whatever its size. A read that fails is not kept; the next caller tries again.
 */
export class SharedRead<T> {
  #latest: { value: T; startedAt: number } | undefined;
  #inFlight: Promise<T> | undefined;

  constructor(
    private readonly read: () => Promise<T>,
    private readonly maxAgeMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  get(): Promise<T> {
    // Aged from when its read started: that is how old what it saw is.
    if (this.#latest && this.now() - this.#latest.startedAt < this.maxAgeMs) return Promise.resolve(this.#latest.value);
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
          this.#latest = { value, startedAt };
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
