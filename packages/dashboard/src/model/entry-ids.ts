/**
 * Redis stream entry ids (`<ms>-<seq>`) compared as the numbers they are. The page keeps the last id
 * it applied per stream and drops anything at or before it, so a replay that overlaps what it
 * already has never counts an event twice.
 */
export function isAfterEntry(id: string, position: string | undefined): boolean {
  if (position === undefined) return true;
  const [idMs, idSeq] = split(id);
  const [posMs, posSeq] = split(position);
  return idMs !== posMs ? idMs > posMs : idSeq > posSeq;
}

function split(id: string): [bigint, bigint] {
  const dash = id.indexOf('-');
  return dash === -1 ? [BigInt(id), 0n] : [BigInt(id.slice(0, dash)), BigInt(id.slice(dash + 1))];
}
