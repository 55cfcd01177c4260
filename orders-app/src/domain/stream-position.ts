/**
 * Redis stream entry ids (`<ms>-<seq>`) compared as the numbers they are: the live view uses this
 * to hand each event to a client exactly once when a replay and the live tail overlap.
 */
export function compareEntryIds(a: string, b: string): number {
  const [aMs, aSeq] = splitEntryId(a);
  const [bMs, bSeq] = splitEntryId(b);
  if (aMs !== bMs) return aMs < bMs ? -1 : 1;
  if (aSeq !== bSeq) return aSeq < bSeq ? -1 : 1;
  return 0;
}

/** True when `id` comes after `position` in its stream. */
export function isAfter(id: string, position: string): boolean {
  return compareEntryIds(id, position) > 0;
}

/** The id before every entry: a stream read from here starts at its first entry. */
export const STREAM_START = '0-0';

function splitEntryId(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  if (dash === -1) return [BigInt(id), 0n];
  return [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}
