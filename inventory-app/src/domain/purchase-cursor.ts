/**
 * The purchase history is paged newest first by purchase id. The cursor is opaque to callers so the
 * paging key can change without breaking them; it only has to survive a round trip.
 */
const PREFIX = 'purchase:';

/** The cursor that continues a page after the purchase with this id. */
export function encodePurchaseCursor(purchaseId: string): string {
  return Buffer.from(`${PREFIX}${purchaseId}`, 'utf8').toString('base64url');
}

/** The purchase id a cursor continues after, or null when it is not a cursor this service issued. */
export function decodePurchaseCursor(cursor: string): string | null {
  if (!/^[A-Za-z0-9_-]+$/.test(cursor)) return null;
  const text = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!text.startsWith(PREFIX)) return null;
  const id = text.slice(PREFIX.length);
  // bigint range: anything longer cannot be a purchase id and would make PostgreSQL throw.
  return /^[1-9][0-9]{0,17}$/.test(id) ? id : null;
}
