import { randomUUID } from 'node:crypto';
import type { Ingredient } from '@free-lunch/contracts';
import { enqueueOutbox } from '@free-lunch/streams';
import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import type { BackoffSettings } from '../domain/backoff.js';
import { backoffAfterRound, callSequence, planPurchases, type PurchaseBackoff } from '../domain/purchase-plan.js';
import { claimRounds, pruneRounds, recordPurchases } from '../data/purchases.js';
import { loadShortfall, NEW_REQUESTS_CHANNEL } from '../data/requests.js';
import { adjustStock, lockStock } from '../data/stock.js';
import { inTransaction } from '@free-lunch/service-kit';
import type { MarketCall } from '../market/market-client.js';
import type { InventoryMetrics } from '../metrics.js';
import { Wakeup } from '../support/wakeup.js';
import { dispatchWhatFits } from './allocate.js';
import { OUTBOX_TABLE, purchasesRecorded, stockChanged } from './events.js';

export interface PurchaseDeps {
  pool: pg.Pool;
  market: { buy(ingredient: Ingredient): Promise<MarketCall> };
  metrics: InventoryMetrics;
  /** Most market calls in flight at once (MARKET_CONCURRENCY). */
  concurrency: number;
  backoff: BackoffSettings;
}

/**
 * A round plans up to this many calls per unit of concurrency (1,024 with MARKET_CONCURRENCY at its
 * default of 16); the calls still go out at most `concurrency` at once. One round is one recording:
 * one transaction, and one batch of dispatches downstream. With a quick market and a long queue the
 * round's window below is what ends it, so a recording holds about {@link ROUND_WINDOW_MS} of calls
 * and commits while the next round's calls go out. With 16 per slot (256 calls) a round's calls took about as long as its
 * recording, which then paced the purchaser: bursts of 10,000 were 15–20 % slower, alternating. The
 * price is the last rounds of a burst buying a little ahead (about 1 % more units than needed, which
 * stay in stock for the next orders), since a short ingredient may get as many calls as units short.
 */
const CALLS_PER_ROUND_PER_SLOT = 64;
/**
 * No call of a round starts later than this after the round began: with a slow market the round
 * ends early (what was planned but not started is simply not made), so what it bought reaches
 * stock, and the waiting dishes, several times a second.
 */
const ROUND_WINDOW_MS = 100;

/** A round's market calls, made; what they bought is not in the books until {@link recordRounds} commits. */
export interface PurchaseRound {
  /** Backoff to carry into the next round. */
  backoff: PurchaseBackoff;
  /** Every call made, in the order started (empty: nothing was short, or everything short is backing off). */
  attempts: MarketCall[];
  /** When nothing could be asked for now: the earliest moment something may be, if anything is short. */
  nextRetryAt: number | null;
}

/**
 * The market half of a purchase round: work out what the waiting requests lack, decide how many
 * market calls each short ingredient gets, and make them (never more than `concurrency` in flight,
 * taking the ingredients in turn). `notYetRecorded` is what an earlier round bought that is still
 * being recorded: it is not short any more. Recording is {@link recordRounds}, so a round's calls can
 * go out while the round before it commits. A zero or a fault only makes that ingredient wait longer.
 */
export async function buyShortfalls(
  deps: Pick<PurchaseDeps, 'pool' | 'market' | 'concurrency' | 'backoff'>,
  backoff: PurchaseBackoff,
  notYetRecorded: ReadonlyMap<Ingredient, number> = new Map(),
): Promise<PurchaseRound> {
  const shortfall = await loadShortfall(deps.pool);
  for (const [ingredient, units] of notYetRecorded) {
    const short = (shortfall.get(ingredient) ?? 0) - units;
    if (short > 0) shortfall.set(ingredient, short);
    else shortfall.delete(ingredient);
  }
  const plan = planPurchases(shortfall, backoff, deps.concurrency * CALLS_PER_ROUND_PER_SLOT, Date.now());
  if (plan.calls.length === 0) return { backoff, attempts: [], nextRetryAt: plan.nextRetryAt };

  const attempts = await callMarket(deps, callSequence(plan.calls), Date.now() + ROUND_WINDOW_MS);
  return { backoff: backoffAfterRound(backoff, attempts, Date.now(), deps.backoff), attempts, nextRetryAt: null };
}

/** Units per ingredient that a round's calls sold. */
function unitsSold(attempts: readonly MarketCall[]): Map<Ingredient, number> {
  const bought = new Map<Ingredient, number>();
  for (const { ingredient, quantitySold } of attempts) {
    if (quantitySold > 0) bought.set(ingredient, (bought.get(ingredient) ?? 0) + quantitySold);
  }
  return bought;
}

/**
 * Makes the calls in the order given, `concurrency` at a time: each of that many workers takes the
 * next call as soon as its last one is answered, until none is left or the round's window closes.
 * Every call started is awaited, so each one the market answered is recorded.
 */
async function callMarket(
  deps: Pick<PurchaseDeps, 'market' | 'concurrency'>,
  sequence: readonly Ingredient[],
  startNoLaterThan: number,
): Promise<MarketCall[]> {
  const attempts: MarketCall[] = [];
  let next = 0;
  const worker = async () => {
    while (next < sequence.length && (next === 0 || Date.now() < startNoLaterThan)) {
      const ingredient = sequence[next++]!;
      attempts.push(await deps.market.buy(ingredient));
    }
  };
  await Promise.all(Array.from({ length: Math.min(deps.concurrency, sequence.length) }, worker));
  return attempts;
}

/** How long a recorded round's id is kept to recognise a retry, and how often older ones are pruned. */
const ROUND_IDS_KEPT_MS = 24 * 60 * 60_000;
const ROUND_IDS_PRUNED_EVERY_MS = 60 * 60_000;

/** Most rounds in one recording: rounds kept through a long outage are recorded a batch at a time. */
const MAX_ROUNDS_PER_RECORDING = 20;

/** SQLSTATEs outside the classes below that also pass: lock timeout, read-only after a failover. */
const TRANSIENT_SQLSTATES = new Set(['55P03', '25006']);

/**
 * Whether a failed transaction may succeed if tried again. From PostgreSQL: the connection failed
 * (class 08), it is shutting down, starting or cancelled the statement (57), ran short of resources
 * (53), rolled the transaction back for a conflict (40), timed out on a lock or is read-only for a
 * failover. From the socket: any system error (EPIPE, ECONNRESET…), and pg's own word that the
 * connection ended. Anything else is about the statement, its data or the code, and would fail the
 * same way again.
 */
function isTransientDatabaseError(error: unknown): boolean {
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    return ['08', '57', '53', '40'].includes(code.slice(0, 2)) || TRANSIENT_SQLSTATES.has(code);
  }
  if (!(error instanceof Error)) return false;
  if ('syscall' in error || 'errno' in error) return true;
  return /connection (terminated|ended|timeout)|not queryable|timeout exceeded when trying to connect/i.test(error.message);
}

/** A round's market calls under the id that makes recording them idempotent. */
interface RoundToRecord {
  id: string;
  attempts: MarketCall[];
}

/** Units per ingredient that the calls of these rounds sold. */
function unitsOfRounds(rounds: readonly RoundToRecord[]): Map<Ingredient, number> {
  return unitsSold(rounds.flatMap((round) => round.attempts));
}

/**
 * The recording half of one or more rounds, in ONE transaction: the purchase rows, the units added
 * to stock and their ledger rows, one `purchases.recorded` with every attempt and a stock snapshot,
 * then whatever the waiting requests can now be handed: the stock lock is taken once, and bought
 * units leave for the kitchen at once instead of waiting for an allocation of their own. Rounds
 * recorded before (see {@link claimRounds}) are skipped.
 */
async function recordRounds(
  pool: pg.Pool,
  rounds: readonly RoundToRecord[],
): Promise<{
  attempts: MarketCall[];
  bought: Map<Ingredient, number>;
  dispatched: Map<Ingredient, number>;
  /** The dispatch's read of the queue stopped at its window (see `Allocation`). */
  queueCutShort: boolean;
}> {
  return inTransaction(pool, async (client) => {
    const stock = await lockStock(client);
    const unseen = await claimRounds(client, rounds.map((round) => round.id));
    const attempts = rounds.filter((round) => unseen.has(round.id)).flatMap((round) => round.attempts);
    const bought = unitsSold(attempts);
    if (attempts.length === 0) return { attempts, bought, dispatched: new Map<Ingredient, number>(), queueCutShort: false };
    // Listed in the order the market answered, so the history reads as it happened.
    const inOrderAnswered = [...attempts].sort((a, b) => a.at.getTime() - b.at.getTime());
    const purchases = await recordPurchases(client, inOrderAnswered);
    await adjustStock(client, bought);
    const events = [purchasesRecorded(purchases)];
    if (bought.size === 0) {
      await enqueueOutbox(client, OUTBOX_TABLE, events);
      return { attempts, bought, dispatched: new Map<Ingredient, number>(), queueCutShort: false };
    }
    const stockAfter = new Map([...stock].map(([ingredient, units]) => [ingredient, units + (bought.get(ingredient) ?? 0)]));
    events.push(stockChanged('purchase', stockAfter, new Date()));
    await enqueueOutbox(client, OUTBOX_TABLE, events);
    const { unitsOut, cutShort } = await dispatchWhatFits(client, stockAfter);
    return { attempts, bought, dispatched: unitsOut, queueCutShort: cutShort };
  });
}

/** A recording while its transaction runs. */
interface RecordingInProgress {
  /** What the rounds being recorded sold, per ingredient. */
  units: Map<Ingredient, number>;
  /** The transaction has committed or failed. */
  done: boolean;
  /** Resolves once done: true if it committed. */
  settled: Promise<boolean>;
}

/** Held by the one replica buying at the market (advisory locks are per database). */
const PURCHASER_LOCK_SQL = `SELECT pg_try_advisory_lock(hashtextextended('free-lunch:inventory:purchaser', 0)) AS leader`;
/** How long a standby waits before trying again to become the purchaser. */
const STANDBY_RETRY_MS = 2_000;
/** How long to look again when nothing is short, if no new request is announced sooner. */
const IDLE_RECHECK_MS = 1_000;
/** Pause after a round that failed (PostgreSQL unreachable, say) before the next. */
const FAILED_ROUND_PAUSE_MS = 1_000;

/**
 * Buys shortfalls in rounds, on exactly one replica at a time. Each replica tries to take a
 * PostgreSQL advisory lock on a connection of its own; the one that gets it purchases, the others
 * stand by and retry. If the purchaser dies its connection drops, PostgreSQL releases the lock and a
 * standby takes over. Two purchasers would double the market traffic, not corrupt anything: each
 * recording is its own transaction, and a round is recorded once whoever records it.
 */
export class Purchaser {
  readonly #wakeup = new Wakeup();
  #stopped = false;
  #loop: Promise<void> | null = null;
  #backoff: PurchaseBackoff = new Map();
  /**
   * The recording in progress while it commits: the next round's calls go out meanwhile, and its
   * plan counts these units as bought. Settled before the next recording starts, so recordings run
   * one at a time and in order.
   */
  #recording: RecordingInProgress | null = null;
  /**
   * Rounds whose recording failed because PostgreSQL could not take it (unreachable, restarting).
   * What the market sold in them is ours, so they are recorded again with the next recording, oldest
   * first, until they are in the books; their units count as bought when planning meanwhile.
   */
  #unrecorded: RoundToRecord[] = [];
  /** When this replica last pruned old round ids (0: not yet). */
  #prunedAt = 0;
  /** Listening for new requests on the leadership session (see {@link NEW_REQUESTS_CHANNEL}). */
  #listening = false;
  /**
   * Counts each announcement of new requests heard, and each start or end of listening (either may
   * hide announcements). A recording compares it before and after its commit (see `#commitRecording`).
   */
  #announcements = 0;

  constructor(
    private readonly deps: PurchaseDeps & {
      /** Where the dedicated leadership connection goes: the service's database. */
      connectionString: string;
      logger: FastifyBaseLogger;
      /** A round was recorded (with the dispatches its purchases allowed): publish its events now. */
      onRecorded: () => void;
      /**
       * A recording bought stock, and some requests may not have had a look at it: allocate again.
       * The recording dispatched what its purchases made possible for the queue it read; this is
       * for requests it could not see (announced between the start of the recording and its commit,
       * or beyond the queue window), or when it cannot tell (not listening, or an earlier attempt
       * committed these rounds). Needed, not a courtesy: an allocation that read the stock before
       * the commit skipped those requests without locking (see `allocateStock`), and this wake-up
       * is what serves them.
       */
      onBought: () => void;
      /**
       * Requests are waiting that no allocation may have seen: a replica announced new ones, or this
       * one has just become the purchaser (requests announced meanwhile reached nobody). Allocating
       * for new requests is the purchaser's, so only one replica's allocator contends with its
       * recordings for the stock lock; every replica still sweeps.
       */
      onNewRequests: () => void;
    },
  ) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Lets the round in progress finish and be recorded, then gives up leadership. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.#wakeup.wake();
    await this.#loop;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#purchaseWhileLeader();
      } catch (error) {
        this.deps.logger.warn({ err: error }, 'purchaser lost its database session; trying again');
      }
      if (!this.#stopped) await this.#wakeup.sleep(STANDBY_RETRY_MS);
    }
  }

  async #purchaseWhileLeader(): Promise<void> {
    // TCP keepalive from 10 s of silence on (pg's default delay of 0 means the system's two hours): a
    // connection silently dropped on the way (NAT, idle timeouts) breaks within minutes, instead of
    // leaving this replica buying without hearing of new requests, served only by the sweeps.
    const session = new pg.Client({
      connectionString: this.deps.connectionString,
      application_name: 'inventory-purchaser',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    let lost = false;
    // The session is what holds the lock: once it breaks, another replica may already be buying.
    session.on('error', (error) => {
      lost = true;
      this.#stopListening();
      this.deps.logger.warn({ err: error }, 'purchaser session broke');
      this.#wakeup.wake();
    });
    session.on('end', () => {
      lost = true;
      this.#stopListening();
    });
    // New requests announced by any replica (only the purchaser listens): serve them from stock, and
    // plan a round now for what they make short.
    session.on('notification', () => {
      this.#announcements += 1;
      this.deps.onNewRequests();
      this.#wakeup.wake();
    });
    await session.connect();
    try {
      while (!this.#stopped && !lost) {
        const { rows } = await session.query<{ leader: boolean }>(PURCHASER_LOCK_SQL);
        if (rows[0]?.leader) break;
        // Rounds bought while this replica led and not recorded then are still ours to record; a
        // recording needs no leadership (it is idempotent, and the stock lock orders it).
        if (this.#unrecorded.length > 0) await this.#recordUnrecorded();
        await this.#wakeup.sleep(STANDBY_RETRY_MS);
      }
      if (this.#stopped || lost) return;
      await session.query(`LISTEN ${NEW_REQUESTS_CHANNEL}`);
      this.#listening = true;
      this.#announcements += 1;
      this.deps.logger.info('this replica now buys at the market for the warehouse');
      this.deps.onNewRequests();
      while (!this.#stopped && !lost) await this.#wakeup.sleep(await this.#round());
    } finally {
      this.#stopListening();
      // What the market sold must reach the books before another replica may start buying. (If the
      // session broke rather than stopped, the lock is gone already; then a round still recording
      // here may overlap a new purchaser's first: more market traffic, never a miscount.)
      await this.#recordBeforeLeaving();
      // Ending the session releases the advisory lock for a standby.
      await session.end().catch(() => {});
    }
  }

  /**
   * Plans and makes one round's market calls, then starts recording them (with any round whose
   * recording failed) without waiting for the commit: the next round's calls overlap it. Returns
   * how long to wait before the next round (0: go on at once).
   */
  async #round(): Promise<number> {
    let round: PurchaseRound;
    try {
      round = await buyShortfalls(this.deps, this.#backoff, this.#unitsNotYetRecorded());
    } catch (error) {
      this.deps.logger.error({ err: error }, 'purchase round failed; the requests keep waiting');
      await this.#settleRecording();
      return FAILED_ROUND_PAUSE_MS;
    }
    this.#backoff = round.backoff;
    const wasRecording = this.#recording !== null;
    const previousRecorded = await this.#settleRecording();
    if (round.attempts.length === 0 && this.#unrecorded.length === 0) {
      // A recording that was still committing may have dispatched, or changed what is short: plan
      // again at once.
      if (wasRecording) return 0;
      return round.nextRetryAt === null ? IDLE_RECHECK_MS : Math.max(0, round.nextRetryAt - Date.now());
    }
    this.#startRecording(round.attempts);
    return previousRecorded ? 0 : FAILED_ROUND_PAUSE_MS;
  }

  /**
   * What was bought but is not in the books yet: the recording in progress, and rounds waiting to
   * be recorded again. Not short any more. (A recording that committed before the shortfall was
   * read is in the read already; counting it again would only under-buy for one round, never
   * over-buy.)
   */
  #unitsNotYetRecorded(): Map<Ingredient, number> {
    const recording = this.#recording;
    const units = unitsOfRounds(this.#unrecorded);
    if (recording && !recording.done) {
      for (const [ingredient, n] of recording.units) units.set(ingredient, (units.get(ingredient) ?? 0) + n);
    }
    return units;
  }

  /**
   * Starts recording the rounds that failed to record before, oldest first, and this one if it made
   * calls: at most {@link MAX_ROUNDS_PER_RECORDING} in one transaction, the rest wait their turn.
   */
  #startRecording(attempts: MarketCall[]): void {
    if (attempts.length > 0) this.#unrecorded.push({ id: randomUUID(), attempts });
    const rounds = this.#unrecorded.splice(0, MAX_ROUNDS_PER_RECORDING);
    const units = unitsOfRounds(rounds);
    const recording: RecordingInProgress = { units, done: false, settled: this.#record(rounds, () => (recording.done = true)) };
    this.#recording = recording;
  }

  /**
   * Records rounds; true once all of them are in the books. Never rejects. When PostgreSQL cannot
   * take the recording (unreachable, restarting), the rounds are kept to record again. When it
   * refuses the data, one round may be at fault: each is then recorded alone, so the others still
   * reach the books, and a round refused on its own is given up (logged with its units) rather
   * than block every recording after it.
   */
  async #record(rounds: RoundToRecord[], markDone: () => void): Promise<boolean> {
    /** Rounds to record again, in their order. */
    const kept: RoundToRecord[] = [];
    try {
      try {
        await this.#commitRecording(rounds);
        return true;
      } catch (error) {
        if (isTransientDatabaseError(error) || rounds.length === 1) {
          this.#recordingFailed(rounds, error, kept);
          return false;
        }
        this.deps.logger.warn({ err: error, rounds: rounds.length }, 'recording purchase rounds failed; recording each alone');
      }
      let allRecorded = true;
      for (const round of rounds) {
        try {
          await this.#commitRecording([round]);
        } catch (error) {
          this.#recordingFailed([round], error, kept);
          allRecorded = false;
        }
      }
      return allRecorded;
    } finally {
      this.#unrecorded = [...kept, ...this.#unrecorded];
      markDone();
    }
  }

  #stopListening(): void {
    this.#listening = false;
    this.#announcements += 1;
  }

  /** One transaction for `rounds`, then the metrics and wake-ups. Throws if the transaction fails. */
  async #commitRecording(rounds: RoundToRecord[]): Promise<void> {
    const heardBefore = this.#listening ? this.#announcements : null;
    const recorded = await recordRounds(this.deps.pool, rounds);
    if (Date.now() - this.#prunedAt >= ROUND_IDS_PRUNED_EVERY_MS) this.#pruneRoundIds();
    try {
      // The recording handed out, under the stock lock, all that its stock could serve of the queue
      // it read. Requests committed after that read are announced at their commit: heard before
      // this point, they call for another allocation now (one that previewed before our commit
      // skipped them); heard later, their own wake-up allocates after our commit. So allocate again
      // only if one was heard meanwhile, or if announcements may have gone unheard (not listening,
      // or the session changed), or if the read stopped at the queue window, or if an earlier
      // attempt committed some of these rounds unbeknown to us (its answer was lost), with
      // dispatches that raced the same way and no wake-up after.
      const mayHaveMissedRequests =
        heardBefore === null ||
        this.#announcements !== heardBefore ||
        recorded.queueCutShort ||
        recorded.attempts.length < rounds.reduce((n, round) => n + round.attempts.length, 0);
      if (unitsOfRounds(rounds).size > 0 && mayHaveMissedRequests) this.deps.onBought();
      const { metrics } = this.deps;
      for (const attempt of recorded.attempts) metrics.marketCalls(attempt.outcome, 1);
      for (const [ingredient, units] of recorded.bought) metrics.unitsBought(ingredient, units);
      for (const [ingredient, units] of recorded.dispatched) metrics.unitsDispatched(ingredient, units);
      this.deps.onRecorded();
    } catch (error) {
      this.deps.logger.error({ err: error }, 'a purchase round was recorded, but announcing it failed');
    }
  }

  /** Forgets round ids older than {@link ROUND_IDS_KEPT_MS}, in the background; a failure waits for the next time. */
  #pruneRoundIds(): void {
    this.#prunedAt = Date.now();
    pruneRounds(this.deps.pool, new Date(Date.now() - ROUND_IDS_KEPT_MS)).then(
      (pruned) => {
        if (pruned > 0) this.deps.logger.debug({ pruned }, 'pruned old purchase round ids');
      },
      (error: unknown) => this.deps.logger.warn({ err: error }, 'pruning old purchase round ids failed'),
    );
  }

  /** Adds rounds to `kept` to record again if the failure may pass, or gives them up. */
  #recordingFailed(rounds: RoundToRecord[], error: unknown, kept: RoundToRecord[]): void {
    // Nothing of it reached stock or ledger, so the books balance either way.
    const units = Object.fromEntries(unitsOfRounds(rounds));
    if (isTransientDatabaseError(error)) {
      kept.push(...rounds);
      this.deps.logger.error({ err: error, units }, 'recording a purchase round failed; it is recorded again with the next');
    } else {
      this.deps.logger.error(
        { err: error, units, calls: rounds.reduce((n, round) => n + round.attempts.length, 0) },
        'PostgreSQL refused a purchase round; its calls and units are not in the books',
      );
    }
  }

  /** Records the rounds kept from failed recordings, now, for as long as that makes progress; true if none is left. */
  async #recordUnrecorded(): Promise<boolean> {
    await this.#settleRecording();
    while (this.#unrecorded.length > 0) {
      const before = this.#unrecorded.length;
      this.#startRecording([]);
      await this.#settleRecording();
      if (this.#unrecorded.length >= before) return false;
    }
    return true;
  }

  /**
   * Before leadership ends: the recording in progress is settled and rounds that failed to record
   * get one more try. Whatever still fails stays with this replica, recorded when it next leads;
   * if it never does, the log says which units the market sold that the books lack.
   */
  async #recordBeforeLeaving(): Promise<void> {
    if (await this.#recordUnrecorded()) return;
    const units = Object.fromEntries(unitsOfRounds(this.#unrecorded));
    this.deps.logger.error({ units }, 'units bought at the market are not in the books yet; this replica records them as soon as it can');
  }

  /** Waits for the last round's recording, if any; false if it failed. Never throws. */
  async #settleRecording(): Promise<boolean> {
    const recording = this.#recording;
    if (!recording) return true;
    const ok = await recording.settled;
    if (this.#recording === recording) this.#recording = null;
    return ok;
  }
}
