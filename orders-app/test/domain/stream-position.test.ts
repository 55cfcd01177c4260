import { describe, expect, it } from 'vitest';
import { parseResumePositions } from '../../src/domain/resume-positions.js';
import { compareEntryIds, isAfter } from '../../src/domain/stream-position.js';

describe('stream positions', () => {
  it('when ids differ in length, then they compare as numbers, not as text', () => {
    expect(compareEntryIds('999-0', '1000-0')).toBe(-1);
    expect(compareEntryIds('1000-10', '1000-9')).toBe(1);
    expect(compareEntryIds('1732780000000-3', '1732780000000-3')).toBe(0);
  });

  it('when an entry is the resume position itself, then it is not after it', () => {
    expect(isAfter('1732780000000-3', '1732780000000-3')).toBe(false);
    expect(isAfter('1732780000000-4', '1732780000000-3')).toBe(true);
  });

  it('when a client resumes with ids per live stream, then those positions are used', () => {
    expect(parseResumePositions('{"kitchen.order-status-changed":"1732780000000-3"}')).toEqual({
      ok: true,
      positions: { 'kitchen.order-status-changed': '1732780000000-3' },
    });
    expect(parseResumePositions(undefined)).toEqual({ ok: true, positions: {} });
  });

  it.each([
    ['not JSON', 'abc'],
    ['a stream the live view does not show', '{"orders.placed":"1-0"}'],
    ['an id that is not an entry id', '{"inventory.stock-changed":"latest"}'],
  ])('when from is %s, then it is refused with a reason', (_label, from) => {
    const parsed = parseResumePositions(from);
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? '' : parsed.message).toMatch(/from/);
  });
});
