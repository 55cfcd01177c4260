/**
 * A sleep that can be cut short. A wake that arrives while nobody sleeps is kept, so the next sleep
 * returns at once: news that came in during a busy spell is never missed.
 */
export class Wakeup {
  #woken = false;
  #cutShort: (() => void) | null = null;

  wake(): void {
    if (this.#cutShort) this.#cutShort();
    else this.#woken = true;
  }

  /** Resolves after `ms`, or sooner on `wake()`. */
  sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const timer = setTimeout(done, Math.max(0, ms));
      const self = this;
      function done() {
        clearTimeout(timer);
        self.#cutShort = null;
        resolve();
      }
      this.#cutShort = done;
    });
  }
}

/**
 * Runs `work` one at a time however often it is asked for: asks arriving while it runs fold into a
 * single further run, which sees everything they were about. Errors go to `onError`; the next ask
 * runs again.
 */
export class SingleFlight {
  #running: Promise<void> | null = null;
  #again = false;
  #stopped = false;

  constructor(
    private readonly work: () => Promise<void>,
    private readonly onError: (error: unknown) => void,
  ) {}

  request(): void {
    if (this.#stopped) return;
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#drain().finally(() => {
      this.#running = null;
    });
  }

  /** No new runs; resolves once the current one (if any) has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#running;
  }

  async #drain(): Promise<void> {
    do {
      this.#again = false;
      try {
        await this.work();
      } catch (error) {
        this.onError(error);
      }
    } while (this.#again && !this.#stopped);
  }
}
