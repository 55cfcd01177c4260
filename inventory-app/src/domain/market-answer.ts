import type { PurchaseOutcome } from '@free-lunch/contracts';

/** What one market call amounted to, as the warehouse records it. */
export interface MarketAnswer {
  outcome: PurchaseOutcome;
  /** Units bought: positive when sold, 0 otherwise (a fault never adds stock). */
  quantitySold: number;
  /** Why a fault is a fault, for the purchase history; null when the market answered properly. */
  error: string | null;
}

/**
 * A call that brought nothing usable: it is recorded, retried later, and adds nothing to stock. The
 * reason may quote what the market sent; PostgreSQL text cannot hold a NUL character, so it is
 * replaced rather than let a market's garbage make the purchase unrecordable.
 */
export function marketFault(error: string): MarketAnswer {
  return { outcome: 'fault', quantitySold: 0, error: error.replaceAll('\u0000', '\uFFFD') };
}

const SNIPPET_LENGTH = 80;

/**
 * Judges a market response against its contract: `{"quantitySold": N}` with N a whole number.
 * 0 means "none today" (wait and retry); 1..maxQuantity is a sale. Anything else — an HTTP error,
 * a body that is not that JSON, or an N that is negative, fractional or absurdly large — is a fault,
 * because adding a made-up quantity to stock would break the ledger for good.
 */
export function readMarketAnswer(statusCode: number, body: string, maxQuantity: number): MarketAnswer {
  if (statusCode < 200 || statusCode > 299) return marketFault(`HTTP ${statusCode}: ${snippet(body)}`);

  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return marketFault(`body is not JSON: ${snippet(body)}`);
  }
  const quantitySold = (parsed as { quantitySold?: unknown } | null)?.quantitySold;
  if (typeof quantitySold !== 'number' || !Number.isFinite(quantitySold)) {
    return marketFault(`body has no numeric quantitySold: ${snippet(body)}`);
  }
  if (!Number.isInteger(quantitySold)) return marketFault(`fractional quantitySold ${quantitySold}`);
  if (quantitySold < 0) return marketFault(`negative quantitySold ${quantitySold}`);
  if (quantitySold > maxQuantity) return marketFault(`absurd quantitySold ${quantitySold} (more than ${maxQuantity})`);
  if (quantitySold === 0) return { outcome: 'none', quantitySold: 0, error: null };
  return { outcome: 'sold', quantitySold, error: null };
}

function snippet(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  if (flat === '') return '(empty body)';
  return flat.length > SNIPPET_LENGTH ? `${flat.slice(0, SNIPPET_LENGTH)}…` : flat;
}
