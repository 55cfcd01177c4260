import type { Redis } from 'ioredis';
import type { StreamsLogger } from './logger.js';

/**
 * The Redis key by which a consumer-group member says it is alive:
 * `<prefix>member:<stream>:<group>:<consumer>`. It holds a short TTL and is renewed while the member
 * runs, so it lapses a few seconds after the member died (SIGKILL, a lost host) and is deleted when
 * the member stops cleanly.
 */
export function memberKey(prefix: string, stream: string, group: string, consumer: string): string {
  return `${prefix}member:${stream}:${group}:${consumer}`;
}

export interface MemberLivenessOptions {
  redis: Redis;
  prefix: string;
  stream: string;
  group: string;
  consumer: string;
  /** How long the key lives unless renewed. */
  ttlMs: number;
  /** How often it is renewed; a few times per TTL, so one slow round trip does not let it lapse. */
  renewMs: number;
  logger: StreamsLogger;
  /** Runs after each renewal attempt (the consumer touches the batch it holds). */
  onBeat?: () => Promise<void>;
}

/**
 * One member's liveness key and the timer that renews it. Renewal runs on a timer of its own, not
 * in the consumer's loop, so a member busy with a slow batch, or holding one while PostgreSQL is
 * away, stays alive to the others. A renewal that fails (Redis away) is only logged: the key then
 * lapses, and the others may take this member's pending entries, which at worst handles them twice
 * (every handler is idempotent).
 */
export class MemberLiveness {
  readonly key: string;
  private timer: NodeJS.Timeout | null = null;
  private beating: Promise<void> | null = null;

  constructor(private readonly options: MemberLivenessOptions) {
    this.key = memberKey(options.prefix, options.stream, options.group, options.consumer);
  }

  /** Writes the key once (awaited: a member is alive before it reads anything), then keeps renewing it. */
  async start(): Promise<void> {
    await this.renew();
    this.timer = setInterval(() => {
      // A beat still running (a slow Redis) is not doubled up.
      this.beating ??= this.beat().finally(() => {
        this.beating = null;
      });
    }, this.options.renewMs);
    this.timer.unref();
  }

  /** Stops renewing and deletes the key, so the others reclaim whatever this member left at once. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    await this.beating;
    await this.options.redis.del(this.key).catch((error: unknown) => {
      this.options.logger.warn({ err: error }, 'could not delete the member liveness key; it lapses by itself');
    });
  }

  private async renew(): Promise<void> {
    await this.options.redis.set(this.key, '1', 'PX', this.options.ttlMs);
  }

  private async beat(): Promise<void> {
    try {
      await this.renew();
    } catch (error) {
      this.options.logger.debug({ err: error }, 'could not renew the member liveness key');
    }
    await this.options.onBeat?.().catch((error: unknown) => {
      this.options.logger.debug({ err: error }, 'could not touch the batch in hand');
    });
  }
}

/** Which of these members' liveness keys are gone: they died (or stopped) without finishing. */
export async function deadMembers(
  redis: Redis,
  prefix: string,
  stream: string,
  group: string,
  consumers: readonly string[],
): Promise<string[]> {
  if (consumers.length === 0) return [];
  const pipeline = redis.pipeline();
  for (const consumer of consumers) pipeline.get(memberKey(prefix, stream, group, consumer));
  const replies = (await pipeline.exec()) ?? [];
  return consumers.filter((_, index) => {
    const [error, value] = replies[index] ?? [null, null];
    if (error) throw error;
    return value === null;
  });
}
