import type { Redis } from 'ioredis';
import type { StreamName } from '@free-lunch/contracts';
import { sleep } from './backoff.js';
import { streamKey } from './keys.js';
import type { StreamsLogger } from './logger.js';

export interface StreamJanitorOptions {
  redis: Redis;
  /** The deployment's key prefix, e.g. `fl:`. */
  prefix: string;
  /** The work streams to trim, usually those the service's own groups read. */
  streams: StreamName[];
  /** Entries younger than this are kept even once every group has finished them; 0 keeps none. */
  retentionMs: number;
  logger: StreamsLogger;
  /** How often to trim; default 15,000 ms. */
  intervalMs?: number;
}

/**
 * Trims one stream (KEYS[1]) to the entries from ARGV[1] (the oldest id kept by age) on, but never
 * past an entry a group has yet to finish: the first entry still pending in any group, or any
 * group's last-delivered-id (everything after it is undelivered; the entry itself is kept, which
 * spares an id's arithmetic at the cost of one entry). A stream without a group is left whole: a
 * group created later starts from 0 and must find every entry. Answers how many entries went.
 *
 * One script, so no group can read or ack between the look and the trim. Ids are compared as
 * digit strings: Lua's numbers are doubles and an id's parts are 64-bit.
 */
const TRIM_SCRIPT = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local groups = redis.call('XINFO', 'GROUPS', KEYS[1])
if #groups == 0 then return 0 end

local function below(a, b)
  if #a ~= #b then return #a < #b end
  return a < b
end
local function earlier(a, b)
  local ams, aseq = string.match(a, '^(%d+)-(%d+)$')
  local bms, bseq = string.match(b, '^(%d+)-(%d+)$')
  if ams ~= bms then return below(ams, bms) end
  return below(aseq, bseq)
end

local floor = ARGV[1]
for _, fields in ipairs(groups) do
  local group = {}
  for i = 1, #fields, 2 do group[fields[i]] = fields[i + 1] end
  if earlier(group['last-delivered-id'], floor) then floor = group['last-delivered-id'] end
  if tonumber(group['pending']) > 0 then
    local oldest = redis.call('XPENDING', KEYS[1], group['name'])[2]
    if earlier(oldest, floor) then floor = oldest end
  end
end
return redis.call('XTRIM', KEYS[1], 'MINID', floor)`;

/** The name the script is defined under on the client (sent whole once, then by its hash). */
const TRIM_COMMAND = 'freeLunchTrimFinishedEntries';

type TrimmingPipeline = ReturnType<Redis['pipeline']> & {
  [TRIM_COMMAND](key: string, oldestKeptId: string): unknown;
};

/**
 * Keeps work streams from growing without end: every `intervalMs`, drops the entries older than
 * `retentionMs` that every consumer group has read and acknowledged (XTRIM MINID). An entry some
 * group has not been handed yet, or holds unacknowledged, stays however old it is.
 *
 * Every replica may run one: a round is one script per stream, atomic and idempotent, so two
 * janitors trimming the same stream at once trim it once.
 */
export class StreamJanitor {
  private readonly redis: Redis;
  private readonly keys: Array<{ stream: StreamName; key: string }>;
  private readonly retentionMs: number;
  private readonly intervalMs: number;
  private readonly logger: StreamsLogger;
  private readonly stopping = new AbortController();
  private loop: Promise<void> | null = null;

  constructor(options: StreamJanitorOptions) {
    this.redis = options.redis;
    this.keys = options.streams.map((stream) => ({ stream, key: streamKey(options.prefix, stream) }));
    this.retentionMs = options.retentionMs;
    this.intervalMs = options.intervalMs ?? 15_000;
    this.logger = options.logger.child({ component: 'stream-janitor' });
    // Defining it again on a shared client is harmless: same name, same script.
    this.redis.defineCommand(TRIM_COMMAND, { numberOfKeys: 1, lua: TRIM_SCRIPT });
  }

  /** Trims now, then every `intervalMs` until stop(). */
  start(): void {
    if (this.loop) throw new Error('stream janitor is already started');
    this.loop = this.run();
  }

  /** Stops trimming; waits for a round in progress. */
  async stop(): Promise<void> {
    this.stopping.abort();
    await this.loop;
  }

  /**
   * One round: trims every stream, each in one script, all in one round trip. Answers how many
   * entries each stream lost.
   */
  async trim(now: number = Date.now()): Promise<Partial<Record<StreamName, number>>> {
    const oldestKept = `${Math.max(0, Math.floor(now - this.retentionMs))}-0`;
    const pipeline = this.redis.pipeline() as TrimmingPipeline;
    for (const { key } of this.keys) pipeline[TRIM_COMMAND](key, oldestKept);
    const replies = (await pipeline.exec()) ?? [];
    const trimmed: Partial<Record<StreamName, number>> = {};
    this.keys.forEach(({ stream }, index) => {
      const [error, count] = replies[index] ?? [new Error('no reply')];
      if (error) throw error;
      trimmed[stream] = Number(count);
    });
    return trimmed;
  }

  private async run(): Promise<void> {
    while (!this.stopping.signal.aborted) {
      try {
        const trimmed = await this.trim();
        this.logger.debug({ trimmed }, 'trimmed finished stream entries');
      } catch (error) {
        // Nothing is lost by skipping a round: the next one trims what this one would have.
        if (!this.stopping.signal.aborted) this.logger.warn({ err: error }, 'trimming streams failed; retrying next round');
      }
      await sleep(this.intervalMs, this.stopping.signal);
    }
  }
}
