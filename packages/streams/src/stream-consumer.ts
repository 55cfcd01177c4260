import type { Redis } from 'ioredis';
import type { MessageOf, StreamName } from '@free-lunch/contracts';
import { abandonable } from './abandonable.js';
import { backoffDelay, OUTAGE_BACKOFF, sleep } from './backoff.js';
import { decodeMessage, fieldsToRecord } from './codec.js';
import { deadLetterArgs } from './dead-letter.js';
import { deadLetterKey, streamKey } from './keys.js';
import type { StreamsLogger } from './logger.js';
import { MalformedMessageError } from './malformed-message-error.js';
import { deadMembers, MemberLiveness } from './member-liveness.js';
import { collectReplies, execTransaction, isGroupMissing } from './redis-replies.js';
import type { StreamMetrics } from './stream-metrics.js';

/** A message handed to a consumer's handler. */
export interface ConsumedMessage<S extends StreamName> {
  /** The stream entry id; the same id comes back when a message is delivered again. */
  id: string;
  stream: S;
  message: MessageOf<S>;
  /** How many times the group has handed this entry out, this time included (1 on first delivery). */
  deliveries: number;
}

/** A batch of this many messages is followed by the whole `lingerMs`, a smaller one by its share. */
export const LINGER_FULL_BATCH = 100;

export interface StreamConsumerOptions<S extends StreamName> {
  /** Used for acks and claims; the consumer duplicates it for its blocking reads and closes the duplicate on stop. */
  redis: Redis;
  /** The deployment's key prefix, e.g. `fl:`. */
  prefix: string;
  stream: S;
  /** The consumer group: one per kind of reader (e.g. `kitchen`); its members share the stream's messages. */
  group: string;
  /** This member's name, unique per process, e.g. `${hostname()}-${process.pid}-${random}`. */
  consumer: string;
  /** Handles a batch all-or-nothing (one SQL transaction); must be idempotent by order id. */
  handleBatch(messages: ConsumedMessage<S>[]): Promise<void>;
  logger: StreamsLogger;
  /** Most messages read at once (XREADGROUP COUNT); default 500. */
  batchSize?: number;
  /** How long one read waits for new messages; default 1000 ms. */
  blockMs?: number;
  /**
   * After a batch that did not fill `batchSize`, wait up to this long before reading again, so
   * messages trickling in are handled together: one transaction for what arrives in that time
   * rather than one per producer commit. The wait is in proportion to the batch just handled, the
   * whole of it from {@link LINGER_FULL_BATCH} messages on: a busy stream gathers large batches,
   * while a quiet one, whose few messages gain little from company, keeps its latency. The first
   * message after a quiet spell is read at once. Default 0 (read again at once).
   */
  lingerMs?: number;
  /**
   * A message pending this long on a member that is still alive (slow, or it failed the message) is
   * claimed and retried by another; default 30,000 ms. A dead member's messages do not wait for it:
   * they are claimed as soon as its liveness key lapses (`livenessTtlMs`).
   */
  claimIdleMs?: number;
  /**
   * How often to look for pending messages of dead members (one XPENDING summary when nothing is
   * pending); default 1,000 ms. Messages idle for `claimIdleMs` on living members are looked for
   * every min(claimIdleMs, 5,000 ms).
   */
  claimIntervalMs?: number;
  /**
   * How long this member's liveness key (`<prefix>member:<stream>:<group>:<consumer>`) lives unless
   * renewed; it is renewed every third of it while the member runs, and deleted when it stops.
   * Default 5,000 ms: a member killed with SIGKILL has its messages reclaimed about this long after.
   */
  livenessTtlMs?: number;
  /**
   * Whether `handleBatch` failed for a reason that passes by itself (PostgreSQL unreachable,
   * restarting, a session cut). Such a batch is kept in hand and retried with backoff, without
   * counting deliveries or splitting it up, so an outage of any length dead-letters nothing.
   * Default: no error is.
   */
  isTransientError?: (error: unknown) => boolean;
  /** Longest wait between two tries of a batch held through a transient failure; default 1,000 ms. */
  transientRetryMaxMs?: number;
  /**
   * Called when the group or its stream is found missing (Redis lost its data), before the group is
   * created again, and at start when the group had to be created. What Redis lost is re-driven from
   * PostgreSQL here (orders-app re-announces every unfinished order). If it throws, the consumer
   * tries again after a backoff, the group still missing, so a crash in between loses nothing.
   */
  onGroupLost?: () => Promise<void>;
  /** After this many failed deliveries a message goes to the dead-letter stream and is acked; default 5. */
  maxDeliveries?: number;
  metrics?: StreamMetrics;
}

/** A stream entry as Redis returns it; fields are null for an entry deleted while pending. */
type RawEntry = [id: string, fields: string[] | null];

/** A message on its way to the dead-letter stream. */
interface Casualty {
  id: string;
  fields: string[];
  reason: string;
  deliveries: number;
}

interface BatchOutcome {
  handled: number;
  failed: number;
}

/**
 * One member of a consumer group: reads new messages in batches, hands them to `handleBatch`, acks
 * what succeeded, retries what failed, reclaims what dead members left pending, and moves messages
 * that cannot be handled to `<stream>.dead-letter`. Delivery is at least once.
 */
export class StreamConsumer<S extends StreamName> {
  private readonly redis: Redis;
  private readonly stream: S;
  private readonly group: string;
  private readonly consumer: string;
  private readonly logger: StreamsLogger;
  private readonly key: string;
  private readonly deadLetterKey: string;
  private readonly batchSize: number;
  private readonly blockMs: number;
  private readonly lingerMs: number;
  private readonly claimIdleMs: number;
  private readonly claimIntervalMs: number;
  private readonly longClaimIntervalMs: number;
  private readonly maxDeliveries: number;
  private readonly isTransientError: (error: unknown) => boolean;
  private readonly transientRetryMaxMs: number;
  private readonly liveness: MemberLiveness;
  private readonly stopping = new AbortController();
  private stopRequest: Promise<void> | null = null;
  private reader: Redis | null = null;
  /** The blocking connection's client id, so stop() can cut a read short with CLIENT UNBLOCK. */
  private readerId: number | null = null;
  private loop: Promise<void> | null = null;
  /** Gives up the read in flight, if any: it then ends with no messages. */
  private abandonRead: (() => void) | null = null;
  private groupMissing = false;
  /** The group had to be created at start and `onGroupLost` has not run successfully since. */
  private reDrivePending = false;
  /** This member may hold pending entries it is not handling (a read whose reply was lost): look at its own list. */
  private ownPendingSuspect = false;
  private nextClaimAt = 0;
  private nextLongClaimAt = 0;
  /** The ids of the batch being handled, touched now and then so a slow batch is not taken as abandoned. */
  private inHand: string[] = [];
  private inHandTouchedAt = 0;
  /**
   * Entries of the last `>` read handled and not acked yet: their XACK goes out right before the next
   * read, or sooner when something must see the pending list as it is (a reclaim, a stop, a dead
   * letter). Claimed entries are acked at once.
   */
  private unacked: string[] = [];

  constructor(private readonly options: StreamConsumerOptions<S>) {
    this.redis = options.redis;
    this.stream = options.stream;
    this.group = options.group;
    this.consumer = options.consumer;
    this.logger = options.logger.child({ stream: options.stream, group: options.group, consumer: options.consumer });
    this.key = streamKey(options.prefix, options.stream);
    this.deadLetterKey = deadLetterKey(options.prefix, options.stream);
    this.batchSize = options.batchSize ?? 500;
    this.blockMs = options.blockMs ?? 1_000;
    this.lingerMs = options.lingerMs ?? 0;
    this.claimIdleMs = options.claimIdleMs ?? 30_000;
    this.claimIntervalMs = options.claimIntervalMs ?? Math.min(this.claimIdleMs, 1_000);
    this.longClaimIntervalMs = Math.max(this.claimIntervalMs, Math.min(this.claimIdleMs, 5_000));
    this.maxDeliveries = options.maxDeliveries ?? 5;
    this.isTransientError = options.isTransientError ?? (() => false);
    this.transientRetryMaxMs = options.transientRetryMaxMs ?? 1_000;
    const livenessTtlMs = options.livenessTtlMs ?? 5_000;
    this.liveness = new MemberLiveness({
      redis: options.redis,
      prefix: options.prefix,
      stream: options.stream,
      group: options.group,
      consumer: options.consumer,
      ttlMs: livenessTtlMs,
      renewMs: Math.max(1, Math.floor(livenessTtlMs / 3)),
      logger: this.logger,
      onBeat: () => this.touchInHand(),
    });
  }

  private get stopped(): boolean {
    return this.stopping.signal.aborted;
  }

  /** Creates the group if it does not exist yet, then starts reading; resolves once the loop runs. */
  async start(): Promise<void> {
    if (this.loop) throw new Error(`consumer ${this.consumer} of ${this.key} is already started`);
    await this.liveness.start();
    if (await this.createGroup()) await this.reDriveAtStart();
    if (this.stopped) {
      // stop() came while the group was being created
      await this.liveness.stop();
      return;
    }
    this.reader = this.redis.duplicate();
    // Failed reads are logged by the loop; this only keeps ioredis from reporting each reconnect attempt as unhandled.
    this.reader.on('error', (error: Error) => this.logger.debug({ err: error }, 'blocking connection error'));
    // Learn the blocking connection's id each time it (re)connects, so stop() can unblock its read.
    // Asked on 'ready' rather than beside every read: a command sent while a reconnect is half-way
    // can be dropped without an answer, and a read must never wait on it.
    const reader = this.reader;
    // An id outlives its connection, and after a Redis restart may be another client's.
    reader.on('close', () => {
      this.readerId = null;
      // A read cut off with its connection may have been served by Redis: its entries are pending
      // on this member, which is alive, so nobody else would take them before claimIdleMs.
      this.ownPendingSuspect = true;
    });
    reader.on('ready', () => {
      reader.client('ID').then(
        (id) => {
          this.readerId = id;
        },
        () => undefined,
      );
    });
    this.loop = this.run();
    this.logger.info('consuming');
  }

  /** Stops reading, lets the batch in hand finish and be acked, then closes the blocking connection. */
  stop(): Promise<void> {
    this.stopRequest ??= this.shutdown();
    return this.stopRequest;
  }

  private async shutdown(): Promise<void> {
    this.stopping.abort();
    if (!this.loop || !this.reader) {
      if (this.loop === null) await this.liveness.stop();
      return;
    }
    // Ends a blocked read as if it timed out: nothing was delivered by it, so nothing is left behind.
    const unblocked =
      this.reader.status === 'ready' && this.readerId !== null
        ? await this.redis.client('UNBLOCK', this.readerId, 'TIMEOUT').catch(() => 0)
        : 0;
    if (unblocked === 0) {
      // No read was unblocked: the reader is reconnecting, its read has not reached Redis yet, or its
      // id is stale (after a reconnect, CLIENT ID waits behind the read ioredis sent again). The
      // connection is dropped instead, and the loop stops waiting for its read: ioredis never settles
      // a read it holds to send again once reconnected. Should Redis have handed that read entries,
      // they stay pending on this member and another one reclaims them.
      this.reader.disconnect();
      this.abandonRead?.();
    }
    await this.loop;
    await this.ackHandled().catch((error: unknown) => {
      // Still pending on this member, whose liveness key goes next: another member takes them over.
      this.logger.warn({ err: error, count: this.unacked.length }, 'could not ack the last messages handled; another member handles them again');
    });
    await this.leaveGroupIfNothingPending();
    // Gone from the living: whatever it still holds (a batch given up during an outage) is the
    // others' to take at once.
    await this.liveness.stop();
    this.reader.disconnect();
    this.logger.info('stopped consuming');
  }

  private async run(): Promise<void> {
    let outages = 0;
    let fruitlessBatches = 0;
    while (!this.stopped) {
      try {
        const outcome = await this.step();
        outages = 0;
        if (this.lingerMs > 0 && outcome.handled > 0 && outcome.handled < this.batchSize) {
          await sleep((this.lingerMs * Math.min(outcome.handled, LINGER_FULL_BATCH)) / LINGER_FULL_BATCH, this.stopping.signal);
        }
        // A batch where everything failed is usually the database being down: slow down rather
        // than burn through the backlog's deliveries.
        fruitlessBatches = outcome.failed > 0 && outcome.handled === 0 ? fruitlessBatches + 1 : 0;
        if (fruitlessBatches > 0) await sleep(backoffDelay(fruitlessBatches, OUTAGE_BACKOFF), this.stopping.signal);
      } catch (error) {
        if (this.stopped) break;
        if (isGroupMissing(error)) {
          this.logger.warn(
            { err: error },
            'stream or consumer group is gone (Redis lost its data?); recreating the group',
          );
          this.groupMissing = true;
          continue;
        }
        outages += 1;
        // What failed may have been a read whose reply was lost, or an ack.
        this.ownPendingSuspect = true;
        const delayMs = backoffDelay(outages, OUTAGE_BACKOFF);
        this.logger.error({ err: error, retryInMs: delayMs }, 'consuming failed; retrying');
        await sleep(delayMs, this.stopping.signal);
      }
    }
  }

  /** One turn of the loop: recreate the group if lost, reclaim stale messages when due, read and handle new ones. */
  private async step(): Promise<BatchOutcome> {
    if (this.groupMissing) {
      // Re-driven first, the group still missing: a process that dies in between leaves the next
      // one to find the group missing too, and to re-drive again.
      await this.options.onGroupLost?.();
      this.reDrivePending = false;
      await this.createGroup();
      this.groupMissing = false;
      this.ownPendingSuspect = false; // the pending list went with the group
      this.unacked = [];
    }
    if (this.reDrivePending) {
      await this.options.onGroupLost?.();
      this.reDrivePending = false;
    }
    const outcome: BatchOutcome = { handled: 0, failed: 0 };
    if (Date.now() >= this.nextClaimAt) {
      // The pending list must not show what this member has finished.
      await this.ackHandled();
      add(outcome, await this.reclaim());
      this.nextClaimAt = Date.now() + this.claimIntervalMs;
      if (this.stopped) return outcome;
    }
    const entries = await this.readNew();
    // A `>` read is always the entry's first delivery to this group.
    if (entries.length > 0) add(outcome, await this.processBatch(entries, () => 1, true));
    return outcome;
  }

  /** Creates the group (and the stream) from the stream's start; true if it did not exist. */
  private async createGroup(): Promise<boolean> {
    try {
      await this.redis.xgroup('CREATE', this.key, this.group, '0', 'MKSTREAM');
      return true;
    } catch (error) {
      if (!(error instanceof Error && error.message.startsWith('BUSYGROUP'))) throw error;
      return false;
    }
  }

  /**
   * The group did not exist at start: a first start, or Redis lost its data while no member ran.
   * Re-driven before the first read; if that fails, the loop tries again before anything else.
   */
  private async reDriveAtStart(): Promise<void> {
    if (!this.options.onGroupLost) return;
    try {
      await this.options.onGroupLost();
    } catch (error) {
      this.logger.warn({ err: error }, 'the consumer group was missing at start and the re-drive failed; retrying');
      this.reDrivePending = true;
    }
  }

  private async readNew(): Promise<RawEntry[]> {
    const reader = this.reader!;
    // Wake up in time for the next reclaim instead of blocking past it (BLOCK 0 would mean forever).
    const blockMs = Math.max(1, Math.min(this.blockMs, this.nextClaimAt - Date.now()));
    if (this.stopped) return [];
    // The acks of the last batch go out on the same connection right before the read, which does not
    // wait for their answer: one round trip per batch, not two. Redis answers in order, so they are
    // settled before the read returns; acks that fail go again with the next read (acking twice is
    // harmless), and a member killed before they arrive has its last batch handled again.
    const acks = this.unacked.splice(0);
    if (acks.length > 0) {
      reader.xack(this.key, this.group, ...acks).catch((error: unknown) => {
        this.unacked.unshift(...acks);
        this.logger.debug({ err: error, count: acks.length }, 'acking handled messages failed; they are acked again');
      });
    }
    const read = abandonable(
      reader.xreadgroup(
        'GROUP', this.group, this.consumer,
        'COUNT', this.batchSize,
        'BLOCK', blockMs,
        'STREAMS', this.key, '>',
      ),
    );
    this.abandonRead = read.abandon;
    try {
      const reply = await read.result;
      return reply?.[0]?.[1] ?? [];
    } finally {
      this.abandonRead = null;
    }
  }

  /** Acks what was handled and not acked yet, now. */
  private async ackHandled(): Promise<void> {
    if (this.unacked.length === 0) return;
    const acks = this.unacked.splice(0);
    try {
      await this.redis.xack(this.key, this.group, ...acks);
    } catch (error) {
      this.unacked.unshift(...acks);
      throw error;
    }
  }

  /**
   * Takes over what is pending and nobody will finish: every entry of members whose liveness key
   * lapsed (they died), this member's own entries after a lost read, and, every
   * `longClaimIntervalMs`, entries idle for `claimIdleMs` on anyone (a member that failed them or
   * is stuck). When nothing is pending that is one XPENDING summary.
   */
  private async reclaim(): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { handled: 0, failed: 0 };
    const [count, , , owners] = (await this.redis.xpending(this.key, this.group)) as [
      number,
      string | null,
      string | null,
      Array<[string, string]> | null,
    ];
    const ownSuspect = this.ownPendingSuspect;
    this.ownPendingSuspect = false;
    if (Number(count) === 0) return outcome;
    const others = (owners ?? []).map(([name]) => name).filter((name) => name !== this.consumer);
    const dead = await deadMembers(this.redis, this.options.prefix, this.stream, this.group, others);
    for (const member of dead) {
      if (this.stopped) return outcome;
      // Idle at least a second: two members finding the same dead one do not both take an entry.
      add(outcome, await this.claimFrom(member, 1_000, 'reclaimed messages of a member that died'));
    }
    if (ownSuspect && !this.stopped) {
      add(outcome, await this.claimFrom(this.consumer, 0, 'took back messages whose read was cut off'));
    }
    if (Date.now() >= this.nextLongClaimAt && !this.stopped) {
      add(outcome, await this.reclaimIdle());
      this.nextLongClaimAt = Date.now() + this.longClaimIntervalMs;
    }
    return outcome;
  }

  /** Claims `member`'s pending entries idle at least `minIdleMs` for this member, and handles them, batch by batch. */
  private async claimFrom(member: string, minIdleMs: number, what: string): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { handled: 0, failed: 0 };
    while (!this.stopped) {
      const pending = (await this.redis.xpending(
        this.key, this.group, 'IDLE', minIdleMs, '-', '+', this.batchSize, member,
      )) as Array<[string, string, number, number]>;
      if (pending.length === 0) break;
      const claimed = (await this.redis.xclaim(
        this.key, this.group, this.consumer, minIdleMs, ...pending.map(([id]) => id),
      )) as RawEntry[];
      if (claimed.length > 0) {
        this.logger.info({ count: claimed.length, member }, what);
        add(outcome, await this.handleClaimed(claimed));
      }
      if (pending.length < this.batchSize) break;
    }
    return outcome;
  }

  /** Claims messages pending longer than claimIdleMs on any member and handles them again, batch by batch. */
  private async reclaimIdle(): Promise<BatchOutcome> {
    const outcome: BatchOutcome = { handled: 0, failed: 0 };
    let cursor = '0-0';
    do {
      const [next, claimed] = (await this.redis.xautoclaim(
        this.key, this.group, this.consumer, this.claimIdleMs, cursor, 'COUNT', this.batchSize,
      )) as [string, RawEntry[]];
      cursor = next;
      if (claimed.length === 0) continue;
      this.logger.info({ count: claimed.length }, 'reclaimed messages left pending too long');
      add(outcome, await this.handleClaimed(claimed));
    } while (cursor !== '0-0' && !this.stopped);
    return outcome;
  }

  private async handleClaimed(claimed: RawEntry[]): Promise<BatchOutcome> {
    const deliveries = await this.deliveryCounts(claimed.map(([id]) => id));
    // An entry acked between the claim and the count was finished by a slow member after all.
    const pending = claimed.filter(([id]) => deliveries.has(id));
    if (pending.length === 0) return { handled: 0, failed: 0 };
    return this.processBatch(pending, (id) => deliveries.get(id)!);
  }

  /**
   * Resets the idle time of the batch in hand (XCLAIM … JUSTID, which counts no delivery), once it
   * has been held a third of claimIdleMs: a slow batch, or one held while PostgreSQL is away, is
   * not taken by another member as abandoned while this one is alive. Entries another member took
   * less than that long ago are left to it.
   */
  private async touchInHand(): Promise<void> {
    const ids = this.inHand;
    const touchEveryMs = Math.floor(this.claimIdleMs / 3);
    if (ids.length === 0 || Date.now() - this.inHandTouchedAt < touchEveryMs) return;
    this.inHandTouchedAt = Date.now();
    await this.redis.xclaim(this.key, this.group, this.consumer, touchEveryMs, ...ids, 'JUSTID');
  }

  /** Each entry's delivery count from the group's pending list, in one pipeline. */
  private async deliveryCounts(ids: string[]): Promise<Map<string, number>> {
    const pipeline = this.redis.pipeline();
    for (const id of ids) pipeline.xpending(this.key, this.group, id, id, 1);
    const replies = collectReplies(await pipeline.exec(), 'XPENDING') as Array<Array<[string, string, number, number]>>;
    const counts = new Map<string, number>();
    for (const [entry] of replies) if (entry) counts.set(entry[0], Number(entry[3]));
    return counts;
  }

  /** `ackLater`: the entries come from a `>` read, and their acks may wait for the next one. */
  private async processBatch(entries: RawEntry[], deliveriesOf: (id: string) => number, ackLater = false): Promise<BatchOutcome> {
    this.inHand = entries.map(([id]) => id);
    this.inHandTouchedAt = Date.now();
    try {
      return await this.processEntries(entries, deliveriesOf, ackLater);
    } finally {
      this.inHand = [];
    }
  }

  private async processEntries(entries: RawEntry[], deliveriesOf: (id: string) => number, ackLater: boolean): Promise<BatchOutcome> {
    const messages: ConsumedMessage<S>[] = [];
    const malformed: Casualty[] = [];
    const rawFields = new Map<string, string[]>();
    for (const [id, fields] of entries) {
      const deliveries = deliveriesOf(id);
      rawFields.set(id, fields ?? []);
      try {
        messages.push({ id, stream: this.stream, message: decodeMessage(this.stream, fields ?? []), deliveries });
      } catch (error) {
        if (!(error instanceof MalformedMessageError)) throw error;
        malformed.push({ id, fields: fields ?? [], reason: error.message, deliveries });
      }
    }
    const casualty = (message: ConsumedMessage<S>, reason: string): Casualty => ({
      id: message.id,
      fields: rawFields.get(message.id)!,
      reason,
      deliveries: message.deliveries,
    });
    // Out of the way before the handler runs: retrying cannot make them readable.
    if (malformed.length > 0) await this.settle([], malformed, false);

    const casualties: Casualty[] = [];
    const deliverable: ConsumedMessage<S>[] = [];
    for (const message of messages) {
      if (message.deliveries > this.maxDeliveries) {
        // Handed out this often with no verdict: the members holding it died while handling it.
        // Giving it to this one too could take it down the same way.
        casualties.push(casualty(message, `delivered ${message.deliveries} times without ever being acknowledged`));
      } else {
        deliverable.push(message);
      }
    }

    const { handled, failed } = await this.handle(deliverable);
    for (const { message, error } of failed) {
      if (message.deliveries >= this.maxDeliveries) casualties.push(casualty(message, errorMessage(error)));
    }
    await this.settle(handled.map((message) => message.id), casualties, ackLater);

    if (handled.length > 0) this.options.metrics?.handled(this.stream, this.group, handled.length);
    if (failed.length > 0) this.options.metrics?.failed(this.stream, this.group, failed.length);
    return { handled: handled.length, failed: failed.length };
  }

  /**
   * The whole batch in one call; if it throws, each message alone, so one poison message cannot
   * hold back the rest. Messages that still fail stay pending and come back after claimIdleMs.
   * A transient failure (see `isTransientError`) is no verdict on the messages: the batch is kept
   * in hand and tried again until it passes or the consumer stops, counting nothing.
   */
  private async handle(messages: ConsumedMessage<S>[]): Promise<{
    handled: ConsumedMessage<S>[];
    failed: Array<{ message: ConsumedMessage<S>; error: unknown }>;
  }> {
    if (messages.length === 0) return { handled: [], failed: [] };
    const first = await this.attempt(messages);
    if (first === HANDLED) return { handled: messages, failed: [] };
    if (first === GIVEN_UP) return { handled: [], failed: [] };
    if (messages.length === 1) {
      this.logFailure(messages[0]!, first.error);
      return { handled: [], failed: [{ message: messages[0]!, error: first.error }] };
    }
    this.logger.warn({ err: first.error, size: messages.length }, 'batch failed; handling its messages one by one');
    const handled: ConsumedMessage<S>[] = [];
    const failed: Array<{ message: ConsumedMessage<S>; error: unknown }> = [];
    for (const message of messages) {
      const outcome = await this.attempt([message]);
      if (outcome === HANDLED) {
        handled.push(message);
      } else if (outcome !== GIVEN_UP) {
        this.logFailure(message, outcome.error);
        failed.push({ message, error: outcome.error });
      }
    }
    return { handled, failed };
  }

  /**
   * Runs `handleBatch` until it succeeds, fails for good (the error), or the consumer stops while a
   * transient failure holds it up (given up: the messages stay pending, and with this member's
   * liveness key deleted on stop another member takes them at once).
   */
  private async attempt(messages: ConsumedMessage<S>[]): Promise<typeof HANDLED | typeof GIVEN_UP | { error: unknown }> {
    for (let failures = 0; ; ) {
      try {
        await this.options.handleBatch(messages);
        if (failures > 0) this.logger.warn({ failures, size: messages.length }, 'the batch held through a transient failure is handled');
        return HANDLED;
      } catch (error) {
        if (!this.isTransientError(error)) return { error };
        failures += 1;
        const retryInMs = backoffDelay(failures, { baseMs: 50, maxMs: this.transientRetryMaxMs });
        // Once, then every 30 or so tries: an outage of minutes must not flood the log.
        if (failures === 1 || failures % 30 === 0) {
          this.logger.warn(
            { err: error, failures, size: messages.length, retryInMs },
            'transient failure (is PostgreSQL away?); keeping the batch in hand and retrying, no delivery counted',
          );
        }
        if (this.stopped) return GIVEN_UP;
        await sleep(retryInMs, this.stopping.signal);
        if (this.stopped) return GIVEN_UP;
      }
    }
  }

  private logFailure(message: ConsumedMessage<S>, error: unknown): void {
    const final = message.deliveries >= this.maxDeliveries;
    this.logger.warn(
      { err: error, messageId: message.id, deliveries: message.deliveries },
      final
        ? 'message failed for the last time; dead-lettering it'
        : 'message failed; it stays pending and will be retried',
    );
  }

  /**
   * Acks handled messages (with the next read, if `ackLater` and there are no casualties) and moves
   * casualties to the dead letter, atomically, in one round trip, with whatever else awaits its ack.
   */
  private async settle(handledIds: string[], casualties: Casualty[], ackLater: boolean): Promise<void> {
    if (ackLater && casualties.length === 0) {
      this.unacked.push(...handledIds);
      return;
    }
    const handled = [...this.unacked.splice(0), ...handledIds];
    const ids = [...handled, ...casualties.map((c) => c.id)];
    if (ids.length === 0) return;
    const at = new Date().toISOString();
    const transaction = this.redis.multi();
    for (const { id, fields, reason, deliveries } of casualties) {
      const letter = {
        stream: this.stream,
        group: this.group,
        messageId: id,
        fields: fieldsToRecord(fields),
        reason,
        deliveries,
        at,
      };
      transaction.xadd(this.deadLetterKey, ...deadLetterArgs(letter));
    }
    transaction.xack(this.key, this.group, ...ids);
    try {
      collectReplies(await execTransaction(transaction), 'XADD/XACK');
    } catch (error) {
      this.unacked.unshift(...handled);
      throw error;
    }
    if (casualties.length > 0) {
      const messages = casualties.map(({ id, reason }) => ({ id, reason }));
      this.logger.error({ messages }, 'moved messages to the dead letter');
      this.options.metrics?.deadLettered(this.stream, this.group, casualties.length);
    }
  }

  /**
   * Every process joins under a new name; leaving on a clean stop keeps the group's member list
   * short. Only when this member holds nothing pending, which would otherwise be lost with it.
   */
  private async leaveGroupIfNothingPending(): Promise<void> {
    try {
      const pending = await this.redis.xpending(this.key, this.group, '-', '+', 1, this.consumer);
      if (pending.length === 0) await this.redis.xgroup('DELCONSUMER', this.key, this.group, this.consumer);
    } catch (error) {
      this.logger.warn({ err: error }, 'could not leave the consumer group');
    }
  }
}

/** `attempt` outcomes besides a lasting failure. */
const HANDLED = Symbol('handled');
const GIVEN_UP = Symbol('given up');

function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function add(total: BatchOutcome, outcome: BatchOutcome): void {
  total.handled += outcome.handled;
  total.failed += outcome.failed;
}
