import type { FastifyBaseLogger } from 'fastify';

/**
 * Runs `run` every `intervalMs`, never two at once: the next round is scheduled when the previous
 * one ends, so a slow round delays the next instead of piling up. A failed round is logged and the
 * next one runs as usual.
 */
export class PeriodicTask {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = true;

  constructor(
    private readonly options: { name: string; intervalMs: number; run: () => Promise<unknown>; log: FastifyBaseLogger },
  ) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  /** Cancels the next round and waits for the current one, if any, to finish. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.round().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.options.intervalMs);
  }

  private async round(): Promise<void> {
    try {
      await this.options.run();
    } catch (error) {
      this.options.log.error({ err: error, task: this.options.name }, 'periodic task failed; retrying next round');
    }
  }
}
