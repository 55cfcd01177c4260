import type { Ingredient } from '@free-lunch/contracts';
import { defaultMarketOptions, parseOptionsPatch, type MarketOptions, type MarketOptionsPatch } from './options.js';
import { freshSeed, seededRandom, type Random } from './random.js';
import { decideAnswer, decideDelay, type MarketAnswer } from './sale.js';
import { MarketStatsRecorder } from './stats.js';

/** One call's fate: what the market answers and how long it makes the caller wait first. */
export interface MarketCall {
  answer: MarketAnswer;
  /** Latency for most answers; the whole hang for a `timeout` fault. */
  delayMs: number;
}

/**
 * The simulated market stall: its current options, its random source and its stats. Everything
 * HTTP-free lives here so the routes stay thin.
 */
export class FarmersMarket {
  readonly stats = new MarketStatsRecorder();
  private current: MarketOptions;
  private random: Random;

  /** @throws InvalidMarketOptionsError when an option is out of range */
  constructor(options: MarketOptionsPatch = {}) {
    this.current = { ...defaultMarketOptions, ...parseOptionsPatch(options) };
    this.random = seededRandom(this.current.seed ?? freshSeed());
  }

  get options(): Readonly<MarketOptions> {
    return this.current;
  }

  /**
   * Changes only the options named in `patch`. Naming a seed (even the current one) restarts the
   * random sequence, so a test can replay a run without restarting the server.
   * @throws InvalidMarketOptionsError, leaving the options as they were
   */
  configure(patch: unknown): Readonly<MarketOptions> {
    const changes = parseOptionsPatch(patch);
    this.current = { ...this.current, ...changes };
    if (changes.seed !== undefined) this.random = seededRandom(changes.seed);
    return this.current;
  }

  /** Decides and counts one call for `ingredient`. */
  serve(ingredient: Ingredient): MarketCall {
    const answer = decideAnswer(this.current, this.random);
    const hangs = answer.kind === 'fault' && answer.fault === 'timeout';
    const delayMs = hangs ? this.current.hangMs : decideDelay(this.current, this.random);
    this.stats.record(ingredient, answer);
    return { answer, delayMs };
  }
}
