import { describe, expect, it } from 'vitest';
import { decodeOrderCursor, encodeOrderCursor } from '../../src/domain/order-cursor.js';

describe('order cursor', () => {
  it('when a cursor is handed back, then it names the same order to the microsecond', () => {
    const cursor = { createdAt: '2024-11-28T10:00:00.123456Z', id: '0b0e9c9e-6c0e-4d2a-9c55-1f7b0f3e0a01' };
    expect(decodeOrderCursor(encodeOrderCursor(cursor))).toEqual(cursor);
  });

  it.each([
    ['not base64 JSON', 'nonsense!!'],
    ['JSON of the wrong shape', Buffer.from('{"createdAt":"yesterday","id":"x"}').toString('base64url')],
    ['an empty object', Buffer.from('{}').toString('base64url')],
  ])('when a cursor is %s, then it is refused', (_label, text) => {
    expect(decodeOrderCursor(text)).toBeNull();
  });
});
