import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Ingredient } from '@free-lunch/contracts';
import { isTransientDatabaseError } from '@free-lunch/service-kit';
import type { RoundCall } from './market-journal.js';
import { callsOfRounds, unitsOfRounds, type RoundToRecord } from './record-round.js';

/** Most rounds in one recording: rounds kept through a long outage are recorded a batch at a time. */
const MAX_ROUNDS_PER_RECORDING = 20;

/** One recording (one run of the recording transaction) while it runs. */
interface Recording {
  /** What the rounds being recorded sold, per ingredient. */
  units: Map<Ingredient, number>;
  /** The transaction has committed or failed. */
  done: boolean;
  /** Resolves once done: true if every round in it is in the books. */
  settled: Promise<boolean>;
}

/**
 * Which rounds are recorded when, and what happens when a recording fails. One recording runs at a
 * time, in the background: the next round's market calls go out while it commits, and it is settled
 * before the next one starts, so rounds reach the books in the order they were bought. A round whose
 * recording failed for a reason that may pass (PostgreSQL unreachable, restarting) is kept: what the
 * market sold in it is ours, so it is recorded again with the next recording, oldest first, until it
 * is in the books. Meanwhile its units, and those of the recording in progress, count as bought.
 */
export class RecordingRetries {
  #recording: Recording | null = null;
  /** Rounds kept from failed recordings, oldest first. */
  #kept: RoundToRecord[] = [];

  constructor(
    private readonly options: {
      /** The recording transaction for `rounds`, and what follows its commit; throws if it fails. */
      record: (rounds: RoundToRecord[]) => Promise<void>;
      logger: FastifyBaseLogger;
    },
  ) {}

  /** A recording has been started and not settled yet. */
  get isRecording(): boolean {
    return this.#recording !== null;
  }

  /** Rounds are kept from failed recordings, waiting to be recorded again. */
  get hasKept(): boolean {
    return this.#kept.length > 0;
  }

  /**
   * What was bought but is not in the books yet: the recording in progress, and the kept rounds. Not
   * short any more. (A recording that committed before the shortfall was read is in the read
   * already; counting it again would only under-buy for one round, never over-buy.)
   */
  unrecordedUnits(): Map<Ingredient, number> {
    const recording = this.#recording;
    const units = unitsOfRounds(this.#kept);
    if (recording && !recording.done) {
      for (const [ingredient, n] of recording.units) units.set(ingredient, (units.get(ingredient) ?? 0) + n);
    }
    return units;
  }

  /**
   * Starts recording the kept rounds, oldest first, and this round if it made calls: at most
   * {@link MAX_ROUNDS_PER_RECORDING} in one transaction, the rest wait their turn. Call
   * {@link settle} first: recordings run one at a time.
   */
  start(attempts: RoundCall[]): void {
    if (attempts.length > 0) this.#kept.push({ id: randomUUID(), attempts });
    const rounds = this.#kept.splice(0, MAX_ROUNDS_PER_RECORDING);
    const units = unitsOfRounds(rounds);
    const recording: Recording = { units, done: false, settled: this.#run(rounds, () => (recording.done = true)) };
    this.#recording = recording;
  }

  /** Waits for the recording in progress, if any; false if it did not record every round. Never throws. */
  async settle(): Promise<boolean> {
    const recording = this.#recording;
    if (!recording) return true;
    const ok = await recording.settled;
    if (this.#recording === recording) this.#recording = null;
    return ok;
  }

  /** Records the kept rounds now, for as long as that makes progress; true if none is left. */
  async recordKept(): Promise<boolean> {
    await this.settle();
    while (this.#kept.length > 0) {
      const before = this.#kept.length;
      this.start([]);
      await this.settle();
      if (this.#kept.length >= before) return false;
    }
    return true;
  }

  /**
   * Before leadership ends: the recording in progress is settled and the kept rounds get one more
   * try. Whatever still fails stays kept, recorded when this replica next leads or stands by; if it
   * never does, the log says which units the market sold that the books lack.
   */
  async recordBeforeLeaving(): Promise<void> {
    if (await this.recordKept()) return;
    const units = Object.fromEntries(unitsOfRounds(this.#kept));
    this.options.logger.error({ units }, 'units bought at the market are not in the books yet; this replica records them as soon as it can');
  }

  /**
   * One recording; true once all its rounds are in the books. Never rejects. When PostgreSQL cannot
   * take it (unreachable, restarting), the rounds are kept. When it refuses the data, one round may
   * be at fault: each is then recorded alone, so the others still reach the books, and a round
   * refused on its own is given up (logged with its units) rather than block every recording after it.
   */
  async #run(rounds: RoundToRecord[], markDone: () => void): Promise<boolean> {
    /** Rounds to keep, in their order. */
    const kept: RoundToRecord[] = [];
    try {
      try {
        await this.options.record(rounds);
        return true;
      } catch (error) {
        if (isTransientDatabaseError(error) || rounds.length === 1) {
          this.#keepOrGiveUp(rounds, error, kept);
          return false;
        }
        this.options.logger.warn({ err: error, rounds: rounds.length }, 'recording purchase rounds failed; recording each alone');
      }
      let allRecorded = true;
      for (const round of rounds) {
        try {
          await this.options.record([round]);
        } catch (error) {
          this.#keepOrGiveUp([round], error, kept);
          allRecorded = false;
        }
      }
      return allRecorded;
    } finally {
      this.#kept = [...kept, ...this.#kept];
      markDone();
    }
  }

  /** Adds rounds to `kept` if the failure may pass, or gives them up. */
  #keepOrGiveUp(rounds: RoundToRecord[], error: unknown, kept: RoundToRecord[]): void {
    // The books balance either way: a refused round left nothing in stock or ledger, and a kept one
    // whose COMMIT went through after all is recognised by its id when recorded again.
    const units = Object.fromEntries(unitsOfRounds(rounds));
    if (isTransientDatabaseError(error)) {
      kept.push(...rounds);
      this.options.logger.error({ err: error, units }, 'recording a purchase round failed; it is recorded again with the next');
    } else {
      this.options.logger.error(
        { err: error, units, calls: callsOfRounds(rounds) },
        'PostgreSQL refused a purchase round; its calls and units are not in the books',
      );
    }
  }
}
