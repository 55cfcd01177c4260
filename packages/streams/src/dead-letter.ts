import { DeadLetter } from '@free-lunch/contracts';
import { MESSAGE_FIELD } from './codec.js';

/**
 * Dead-letter streams are trimmed (approximately) to this many entries, so a flood of poison
 * messages cannot exhaust Redis memory; far more than anyone will inspect by hand.
 */
export const DEAD_LETTER_MAX_LENGTH = 100_000;

/** The XADD arguments after the key for one dead letter: trimming, id and the `m` field. */
export function deadLetterArgs(letter: DeadLetter): Array<string | number> {
  return ['MAXLEN', '~', DEAD_LETTER_MAX_LENGTH, '*', MESSAGE_FIELD, JSON.stringify(DeadLetter.parse(letter))];
}
