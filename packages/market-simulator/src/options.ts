import { z } from 'zod';

/** The ways the market can misbehave; each is a fault the warehouse must never add to stock. */
export const faultKinds = ['http500', 'timeout', 'nonJson', 'negative', 'fractional', 'absurd'] as const;

export const FaultKind = z.enum(faultKinds, { error: `must be one of: ${faultKinds.join(', ')}` });
export type FaultKind = z.infer<typeof FaultKind>;

/**
 * Above this the warehouse treats a sale as absurd, so ordinary sales must stay at or below it
 * for "absurd" to remain a fault the warehouse can tell apart.
 */
export const ABSURD_QUANTITY_THRESHOLD = 1_000_000;

// Messages leave out the option's name: describeIssues puts the path in front.
const rate = () =>
  z.number({ error: 'must be a number' }).min(0, 'must be between 0 and 1').max(1, 'must be between 0 and 1');

const milliseconds = () =>
  z.number({ error: 'must be a number' }).int('must be a whole number of milliseconds').min(0, 'must not be negative');

/**
 * Any subset of the simulator's options, e.g. a `PUT /config` body. It carries no defaults on
 * purpose: options left out keep their current value.
 */
export const MarketOptionsPatch = z
  .object({
    /** Added to every answer before it is sent. */
    latencyMs: milliseconds(),
    /** Each answer waits latencyMs plus a uniform extra of 0..latencyJitterMs. */
    latencyJitterMs: milliseconds(),
    /** Share of calls that fault instead of selling. */
    failureRate: rate(),
    /** Faults to choose from, uniformly, when a call faults. */
    faultKinds: z
      .array(FaultKind, { error: `must be a list of: ${faultKinds.join(', ')}` })
      .min(1, 'must name at least one fault'),
    /** How long a `timeout` fault holds the call before answering 504; the server closing ends it sooner. */
    hangMs: milliseconds(),
    /** Share of the non-faulting calls that sell nothing ("none today, try again later"). */
    zeroRate: rate(),
    /** A sale is a whole number uniform in 1..maxQuantity. */
    maxQuantity: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(ABSURD_QUANTITY_THRESHOLD, `must be at most ${ABSURD_QUANTITY_THRESHOLD}`),
    /** Seeds the random source so a run can be replayed; setting it again restarts the sequence. */
    seed: z
      .number({ error: 'must be a number' })
      .int('must be a whole number')
      .min(0, 'must be between 0 and 4294967295')
      .max(0xffff_ffff, 'must be between 0 and 4294967295'),
  })
  .partial()
  .strict();
export type MarketOptionsPatch = z.infer<typeof MarketOptionsPatch>;

/** The simulator's options with every default filled in; `seed` is absent when the run is not seeded. */
export type MarketOptions = Required<Omit<MarketOptionsPatch, 'seed'>> & { seed?: number };

/** The market as the real one behaves on an ordinary day: quick, reliable, often out of stock. */
export const defaultMarketOptions: Readonly<MarketOptions> = Object.freeze({
  latencyMs: 0,
  latencyJitterMs: 0,
  failureRate: 0,
  faultKinds: [...faultKinds],
  hangMs: 30_000,
  zeroRate: 0.4,
  maxQuantity: 5,
});

/** Thrown when options do not validate; the message names every bad option and why. */
export class InvalidMarketOptionsError extends Error {
  override name = 'InvalidMarketOptionsError';
}

/**
 * Validates a subset of the options. Keys given as `undefined` are dropped, so a caller can spread
 * optional settings without erasing the options they leave unset.
 * @throws InvalidMarketOptionsError naming every bad option
 */
export function parseOptionsPatch(input: unknown): MarketOptionsPatch {
  const parsed = MarketOptionsPatch.safeParse(withoutUndefined(input));
  if (!parsed.success) throw new InvalidMarketOptionsError(describeIssues(parsed.error));
  return withoutUndefined(parsed.data) as MarketOptionsPatch;
}

/** One clause per problem, naming the option, e.g. `failureRate must be between 0 and 1`. */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => (issue.path.length > 0 ? `${issue.path.join('.')} ${issue.message}` : issue.message))
    .join('; ');
}

function withoutUndefined(value: unknown): unknown {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined));
}
