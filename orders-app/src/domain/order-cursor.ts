import { z } from 'zod';

/**
 * Where a newest-first page of orders stopped: the last order's creation time (to the microsecond,
 * as PostgreSQL keeps it — a millisecond `Date` would skip or repeat orders created in the same
 * millisecond) and its id, which breaks ties between orders placed together.
 */
export interface OrderCursor {
  createdAt: string;
  id: string;
}

const CursorShape = z.object({
  // The ISO check allows year 0000 and offsets up to ±23:59; PostgreSQL refuses both (it counts
  // years AD/BC, and offsets stop at ±15:59), which would fail the query instead of the cursor.
  createdAt: z.iso
    .datetime({ offset: true })
    .refine((value) => !value.startsWith('0000') && !/[+-](?:1[6-9]|2\d):\d\d$/.test(value)),
  id: z.uuid(),
});

/** Opaque to clients: they pass it back as-is, so its shape can change without breaking them. */
export function encodeOrderCursor(cursor: OrderCursor): string {
  return Buffer.from(JSON.stringify({ createdAt: cursor.createdAt, id: cursor.id })).toString('base64url');
}

/** The cursor a client passed back, or null when it is not one this service handed out. */
export function decodeOrderCursor(text: string): OrderCursor | null {
  try {
    const parsed = CursorShape.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}
