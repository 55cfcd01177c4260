import type { FastifyBaseLogger } from 'fastify';
import pg from 'pg';
import type { Wakeup } from '@free-lunch/service-kit';
import { NEW_REQUESTS_CHANNEL } from '../data/requests.js';

/** Held by the one replica buying at the market (advisory locks are per database). */
const PURCHASER_LOCK_SQL = `SELECT pg_try_advisory_lock(hashtextextended('free-lunch:inventory:purchaser', 0)) AS leader`;
/** How long a standby waits before trying again to become the purchaser. */
export const STANDBY_RETRY_MS = 2_000;

/** What the purchaser does in each phase of a leadership session. */
export interface LeadershipPhases {
  /** Between two tries at the lock while another replica purchases. */
  standBy(): Promise<void>;
  /** While this replica holds the lock; returns once `leading()` is false. */
  lead(leading: () => boolean): Promise<void>;
  /** After leading, before the session ends and so releases the lock. */
  leave(): Promise<void>;
}

/**
 * Who is the purchaser: each replica opens a PostgreSQL session of its own and tries to take an
 * advisory lock on it; the one that gets it purchases and LISTENs for new requests, the others stand
 * by and retry. If the purchaser dies its session drops, PostgreSQL releases the lock and a standby
 * takes over. Two purchasers would double the market traffic, not corrupt anything: rounds are
 * recorded idempotently and the stock lock orders the recordings.
 */
export class PurchaserLeadership {
  #stopped = false;
  #loop: Promise<void> | null = null;
  /** Listening for new requests on the leadership session (see {@link NEW_REQUESTS_CHANNEL}). */
  #listening = false;
  /** Counts each announcement of new requests heard, and each start or end of listening (either may hide announcements). */
  #announcements = 0;

  constructor(
    private readonly options: {
      /** Where the leadership session goes: the service's database. */
      connectionString: string;
      logger: FastifyBaseLogger;
      /** Woken when the session breaks or a request is announced; the phases sleep on it. */
      wakeup: Wakeup;
      /** Requests are waiting that no allocation may have seen (see `Purchaser`). */
      onNewRequests: () => void;
      phases: LeadershipPhases;
    },
  ) {}

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Lets the phase in progress finish, then ends the session. */
  async stop(): Promise<void> {
    this.#stopped = true;
    this.options.wakeup.wake();
    await this.#loop;
  }

  /**
   * A mark to compare before and after a recording's commit: null while not listening (announcements
   * go unheard); otherwise it changes whenever an announcement is heard or listening starts or ends.
   */
  announcementsHeard(): number | null {
    return this.#listening ? this.#announcements : null;
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        await this.#session();
      } catch (error) {
        this.options.logger.warn({ err: error }, 'purchaser lost its database session; trying again');
      }
      if (!this.#stopped) await this.options.wakeup.sleep(STANDBY_RETRY_MS);
    }
  }

  /** One leadership session: stand by until the lock is ours, lead, leave. */
  async #session(): Promise<void> {
    const { logger, wakeup, phases } = this.options;
    // TCP keepalive from 10 s of silence on (pg's default delay of 0 means the system's two hours): a
    // connection silently dropped on the way (NAT, idle timeouts) breaks within minutes, instead of
    // leaving this replica buying without hearing of new requests, served only by the sweeps.
    const session = new pg.Client({
      connectionString: this.options.connectionString,
      application_name: 'inventory-purchaser',
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    let lost = false;
    // The session is what holds the lock: once it breaks, another replica may already be buying.
    session.on('error', (error) => {
      lost = true;
      this.#stopListening();
      logger.warn({ err: error }, 'purchaser session broke');
      wakeup.wake();
    });
    session.on('end', () => {
      lost = true;
      this.#stopListening();
    });
    // New requests announced by any replica (only the purchaser listens): serve them from stock, and
    // plan a round now for what they make short.
    session.on('notification', () => {
      this.#announcements += 1;
      this.options.onNewRequests();
      wakeup.wake();
    });
    await session.connect();
    try {
      while (!this.#stopped && !lost) {
        const { rows } = await session.query<{ leader: boolean }>(PURCHASER_LOCK_SQL);
        if (rows[0]?.leader) break;
        await phases.standBy();
        await wakeup.sleep(STANDBY_RETRY_MS);
      }
      if (this.#stopped || lost) return;
      await session.query(`LISTEN ${NEW_REQUESTS_CHANNEL}`);
      this.#listening = true;
      this.#announcements += 1;
      logger.info('this replica now buys at the market for the warehouse');
      this.options.onNewRequests();
      await phases.lead(() => !this.#stopped && !lost);
    } finally {
      this.#stopListening();
      // (If the session broke rather than stopped, the lock is gone already; then what `leave` still
      // records may overlap a new purchaser's first round: more market traffic, never a miscount.)
      await phases.leave();
      // Ending the session releases the advisory lock for a standby.
      await session.end().catch(() => {});
    }
  }

  #stopListening(): void {
    this.#listening = false;
    this.#announcements += 1;
  }
}
