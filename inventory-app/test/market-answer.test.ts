import { describe, expect, it } from 'vitest';
import { readMarketAnswer } from '../src/domain/market-answer.js';
import { decodePurchaseCursor, encodePurchaseCursor } from '../src/domain/purchase-cursor.js';

describe('readMarketAnswer', () => {
  it('when the market sells a whole number of units, then it is a sale of that many', () => {
    expect(readMarketAnswer(200, '{"quantitySold":3}', 1000)).toEqual({ outcome: 'sold', quantitySold: 3, error: null });
  });

  it('when the market sells nothing, then it is "none", not a fault', () => {
    expect(readMarketAnswer(200, '{"quantitySold":0}', 1000)).toEqual({ outcome: 'none', quantitySold: 0, error: null });
  });

  it.each([
    ['an HTTP error', 500, '{"error":"boom"}', /HTTP 500/],
    ['a body that is not JSON', 200, '<html>oops</html>', /not JSON/],
    ['JSON without quantitySold', 200, '{"sold":3}', /no numeric quantitySold/],
    ['a quantity given as text', 200, '{"quantitySold":"3"}', /no numeric quantitySold/],
    ['a negative quantity', 200, '{"quantitySold":-2}', /negative/],
    ['a fractional quantity', 200, '{"quantitySold":2.5}', /fractional/],
    ['an absurd quantity', 200, '{"quantitySold":1000000}', /absurd/],
    ['JSON null', 200, 'null', /no numeric quantitySold/],
  ])('when the market answers with %s, then it is a fault that adds nothing and says why', (_, status, body, reason) => {
    const answer = readMarketAnswer(status, body, 1000);
    expect(answer.outcome).toBe('fault');
    expect(answer.quantitySold).toBe(0);
    expect(answer.error).toMatch(reason);
  });

  it('when the market answers with a NUL character, then the fault quotes it without one (PostgreSQL text cannot hold it)', () => {
    const answer = readMarketAnswer(500, 'oops\u0000', 1000);
    expect(answer.outcome).toBe('fault');
    expect(answer.error).toMatch(/^HTTP 500: oops/);
    expect(answer.error).not.toContain('\u0000');
  });
});

describe('purchase cursor', () => {
  it('when a cursor this service issued comes back, then it continues after the same purchase', () => {
    expect(decodePurchaseCursor(encodePurchaseCursor('12345'))).toBe('12345');
  });

  it.each(['abc', 'not a cursor!', Buffer.from('purchase:-1').toString('base64url'), Buffer.from('purchase:99999999999999999999').toString('base64url')])(
    'when a cursor is made up (%s), then it is rejected',
    (cursor) => {
      expect(decodePurchaseCursor(cursor)).toBeNull();
    },
  );
});
