import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { classifyDatabaseError } from '@free-lunch/service-kit';
import { journalSales, type JournaledSale } from '../data/market-journal.js';
import type { MarketCall } from '../market/market-client.js';

/**
 * A market call as a round keeps it. A sale carries `journalSeq`, its place in this purchaser's
 * journal, once it has been handed to {@link MarketJournal.write}; the recording takes it from the
 * journal by that number. A sale without one (the journal refused it) is recorded from memory.
 */
export type RoundCall = MarketCall & { journalSeq?: number };

/** Most sales in one INSERT; more wait for the next. */
const MAX_SALES_PER_WRITE = 1_000;
/**
 * How long a sale that finds no write in progress waits for others before its write starts: without
 * it each write after a quiet moment carries the first sale or two of the calls answered within a
 * millisecond or two, and a burst costs a transaction (a WAL flush) every few sales.
 */
const LINGER_MS = 2;

interface Entry {
  call: RoundCall;
  sale: JournaledSale;
  written: boolean;
  /** Tells the caller of `write` how the first attempt went (it does not wait for retries). */
  settle: () => void;
}

/**
 * Writes each sale to the journal as its answer arrives (`market_journal`), so that a purchaser
 * killed mid-round loses only the calls it had in flight (the slot that made a sale waits for it). One INSERT at a time: the sales that
 * arrive while one is being written go together in the next, and a sale that finds none in
 * progress waits {@link LINGER_MS} for others, so a burst costs a write per several sales. A write
 * that fails in a way that may pass (PostgreSQL unreachable) keeps its sales here, oldest first,
 * and writes them again with the next write or {@link flush}; the recording that needs them calls
 * `flush` first and fails like any recording if they still cannot be written, so their round is
 * kept and retried too (`RecordingRetries`). Writes are idempotent by (purchaser, seq), so a write
 * whose COMMIT answer was lost is simply written again.
 */
export class MarketJournal {
  /** This purchaser's id in the journal: one per process, so a restarted process is another purchaser. */
  readonly purchaser = randomUUID();
  #nextSeq = 1;
  /** Sales not written yet, oldest first, and not being written now. */
  #waiting: Entry[] = [];
  /** The write in progress, if any, and its sales. */
  #writing: Promise<void> | null = null;
  #sending: Entry[] = [];
  /** The next write's start, while it waits for more sales ({@link LINGER_MS}). */
  #lingering: NodeJS.Timeout | null = null;
  /** Writes failed so far, and the last one's error (what a `flush` that cannot write throws). */
  #failures = 0;
  #lastError: unknown = null;

  constructor(
    private readonly pool: pg.Pool,
    private readonly logger: FastifyBaseLogger,
  ) {}

  /**
   * Journals a sale (`call.quantitySold > 0`) and numbers it (`journalSeq`). Resolves once it is
   * written, or once writing it failed (it is then kept and written again later); never rejects.
   */
  write(call: RoundCall): Promise<void> {
    const seq = this.#nextSeq++;
    call.journalSeq = seq;
    return new Promise((resolve) => {
      const sale = { seq, ingredient: call.ingredient, quantitySold: call.quantitySold, at: call.at };
      this.#waiting.push({ call, sale, written: false, settle: resolve });
      if (this.#waiting.length >= MAX_SALES_PER_WRITE) this.#writeNext();
      else if (!this.#writing) this.#lingering ??= setTimeout(() => this.#writeNext(), LINGER_MS);
    });
  }

  /**
   * Starts writing the sales waiting for their linger now: the caller knows no more are coming
   * soon (a round's last answer is in), so waiting for them only delays the round's end.
   */
  writeNow(): void {
    if (this.#lingering) this.#writeNext();
  }

  /**
   * Waits until every sale handed to `write` before this call is in the journal (or refused by it,
   * and so left to be recorded from memory), trying again those whose write failed; sales handed
   * over meanwhile are not waited for. Rejects with the database's error if that cannot be done.
   */
  async flush(): Promise<void> {
    const ours = [...this.#sending, ...this.#waiting];
    if (this.#writing) await this.#writing;
    // One more try for those whose write failed, before or in the write just awaited.
    const failuresBefore = this.#failures;
    for (;;) {
      if (ours.every((entry) => entry.written)) return;
      if (this.#failures > failuresBefore) throw this.#lastError;
      this.#writeNext();
      await this.#writing;
    }
  }

  /** Starts writing the waiting sales, oldest first, unless a write is in progress (its end starts the next). */
  #writeNext(): void {
    if (this.#lingering) clearTimeout(this.#lingering);
    this.#lingering = null;
    if (this.#writing || this.#waiting.length === 0) return;
    const batch = this.#waiting.splice(0, MAX_SALES_PER_WRITE);
    this.#sending = batch;
    this.#writing = this.#write(batch).finally(() => {
      this.#writing = null;
      this.#sending = [];
      // The sales that came meanwhile have waited already: they go at once. After a failure, the
      // next write waits for the next sale or flush: no retry loop against a database that is down.
      if (batch.every((entry) => entry.written)) this.#writeNext();
    });
  }

  async #write(batch: Entry[]): Promise<void> {
    try {
      await journalSales(this.pool, this.purchaser, batch.map((entry) => entry.sale));
      for (const entry of batch) entry.written = true;
    } catch (error) {
      if (classifyDatabaseError(error) === 'refused') {
        // Nothing of a refused statement was written: these sales are recorded from memory by the
        // round that made them, which cannot lose them to a kill of this process any more than before.
        for (const entry of batch) {
          entry.written = true;
          delete entry.call.journalSeq;
        }
        this.logger.error({ err: error, sales: batch.length }, 'PostgreSQL refused to journal market sales; they are recorded with their round');
      } else {
        this.#failures += 1;
        this.#lastError = error;
        this.#waiting = [...batch, ...this.#waiting];
        // Sales handed over during this write would otherwise wait for a write that only the next
        // sale or flush starts; their round must end (and its recording retry) rather than hang.
        for (const entry of this.#waiting) entry.settle();
        this.logger.warn({ err: error, sales: batch.length }, 'journaling market sales failed; they are written again with the next');
      }
    } finally {
      for (const entry of batch) entry.settle();
    }
  }
}
