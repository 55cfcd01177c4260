/**
 * A sleep that can be cut short. A wake that arrives while nobody sleeps is kept, so the next sleep
 * returns at once: news that came in during a busy spell is never missed. Several such wakes count
 * as one. {@link Loop} sleeps on one between runs; use it directly only for a loop that must keep
 * state across its rounds (a session it holds, say) and so cannot be one {@link Loop} run at a time.
 */
export class Wakeup {
  #woken = false;
  #cutShort: (() => void) | null = null;

  wake(): void {
    if (this.#cutShort) this.#cutShort();
    else this.#woken = true;
  }

  /** Resolves after `ms`, or sooner on `wake()`; at once if a wake was kept (using it up). */
  sleep(ms: number): Promise<void> {
    if (this.#woken) {
      this.#woken = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#cutShort = null;
        resolve();
      };
      const timer = setTimeout(done, Math.max(0, ms));
      this.#cutShort = done;
    });
  }

  /** Uses up a kept wake without sleeping: for a caller about to run anyway. */
  forget(): void {
    this.#woken = false;
  }
}

/** What a loop logs: a failed run. Fastify's `app.log` and a pino logger satisfy it. */
export interface LoopLogger {
  error(details: Record<string, unknown>, message: string): void;
}

export interface LoopOptions {
  /** Says which loop failed in its log lines, e.g. `reconcile stuck orders`. */
  name: string;
  /**
   * One run. May answer how many milliseconds until the next run (0: at once); otherwise, or when
   * it throws, the next run comes `everyMs` after this one ended.
   */
  run: () => Promise<number | void>;
  /** Longest time between the end of one run and the start of the next when nobody wakes the loop. */
  everyMs: number;
  log: LoopLogger;
  /** Whether `start()` runs at once (the default) or first sleeps `everyMs`. */
  runAtStart?: boolean;
}

/**
 * Background work run over and over, never two runs at once: at start, then `everyMs` after each
 * run ends (or when the run says), or as soon as someone calls `wake()`. A wake while idle runs at
 * once; wakes during a run, however many, make exactly one more run right after it, which sees
 * whatever they were about. A failed run is logged and the loop carries on. `stop()` cancels the
 * next run and waits for the current one, so its transaction ends before the pools close.
 */
export class Loop {
  readonly name: string;
  readonly #options: LoopOptions;
  readonly #wakeup = new Wakeup();
  #running: Promise<void> | null = null;
  #stopped = false;

  constructor(options: LoopOptions) {
    this.name = options.name;
    this.#options = options;
  }

  /** Starts the loop; wakes before it are ignored. Starting twice, or after `stop()`, does nothing. */
  start(): void {
    if (this.#running || this.#stopped) return;
    this.#running = this.#drive();
  }

  /** Runs now if idle, or once more right after the run in progress. Ignored unless started. */
  wake(): void {
    if (this.#running && !this.#stopped) this.#wakeup.wake();
  }

  /** No further runs; resolves once the run in progress, if any, has finished. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeup.wake();
    await this.#running;
  }

  async #drive(): Promise<void> {
    const { run, everyMs, log, runAtStart = true } = this.#options;
    if (!runAtStart) await this.#wakeup.sleep(everyMs);
    while (!this.#stopped) {
      let delayMs = everyMs;
      try {
        delayMs = (await run()) ?? everyMs;
      } catch (error) {
        log.error({ err: error, loop: this.name }, `${this.name} failed; trying again in ${everyMs} ms`);
      }
      if (this.#stopped) return;
      // The next run starts after any wake kept so far, so it answers that wake too.
      if (delayMs <= 0) this.#wakeup.forget();
      else await this.#wakeup.sleep(delayMs);
    }
  }
}
