import { ABSURD_QUANTITY_THRESHOLD, type FaultKind, type MarketOptions } from './options.js';
import { wholeNumberBetween, type Random } from './random.js';

/** What the market does with one call: sell some amount (zero included) or misbehave. */
export type MarketAnswer =
  | { kind: 'sale'; quantitySold: number }
  | { kind: 'fault'; fault: 'http500' | 'timeout' | 'nonJson' }
  /** A fault dressed as a sale: a well-formed body whose number the warehouse must refuse. */
  | { kind: 'fault'; fault: 'negative' | 'fractional' | 'absurd'; quantitySold: number };

type SaleTerms = Pick<MarketOptions, 'failureRate' | 'faultKinds' | 'zeroRate' | 'maxQuantity'>;

/**
 * Decides one call's answer. The number of draws taken from `random` depends only on the path
 * taken, so a seeded sequence of calls always gives the same sequence of answers.
 */
export function decideAnswer(terms: SaleTerms, random: Random): MarketAnswer {
  if (random() < terms.failureRate) {
    return decideFault(terms, random);
  }
  if (random() < terms.zeroRate) {
    return { kind: 'sale', quantitySold: 0 };
  }
  return { kind: 'sale', quantitySold: wholeNumberBetween(random, 1, terms.maxQuantity) };
}

function decideFault(terms: SaleTerms, random: Random): MarketAnswer {
  const fault = terms.faultKinds[wholeNumberBetween(random, 0, terms.faultKinds.length - 1)] as FaultKind;
  switch (fault) {
    case 'negative':
      return { kind: 'fault', fault, quantitySold: -wholeNumberBetween(random, 1, terms.maxQuantity) };
    case 'fractional':
      // Always strictly between two whole numbers, so rounding it would be a visible mistake.
      return { kind: 'fault', fault, quantitySold: wholeNumberBetween(random, 0, terms.maxQuantity - 1) + 0.5 };
    case 'absurd':
      return {
        kind: 'fault',
        fault,
        quantitySold: wholeNumberBetween(random, ABSURD_QUANTITY_THRESHOLD + 1, 1_000 * ABSURD_QUANTITY_THRESHOLD),
      };
    default:
      return { kind: 'fault', fault };
  }
}

/** Extra wait before answering: latencyMs plus a uniform 0..latencyJitterMs. */
export function decideDelay(options: Pick<MarketOptions, 'latencyMs' | 'latencyJitterMs'>, random: Random): number {
  if (options.latencyJitterMs === 0) return options.latencyMs;
  return options.latencyMs + wholeNumberBetween(random, 0, options.latencyJitterMs);
}
