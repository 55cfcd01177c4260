import { describe, expect, it } from 'vitest';
import { caughtUpSeconds, judge, recoverySeconds, type Findings } from '../src/verdict.js';

const clean: Findings = {
  orders: 3_000,
  delivered: 3_000,
  duplicates: 0,
  unexpectedOrders: 0,
  unacceptedChunks: 0,
  auditOk: true,
  deadLetters: { total: 12, poison: 12 },
  poisonInjected: 12,
  crashes: 0,
  recoverySeconds: 4.2,
};

describe('the verdict', () => {
  it('when everything arrived once, quickly, with only the poison dead-lettered, then the run is ok', () => {
    expect(judge(clean, { recoveryLimitS: 15 })).toEqual({ ok: true, missing: 0, failures: [] });
  });

  it('when orders are missing or handled twice, then the run fails and says how many', () => {
    const verdict = judge({ ...clean, delivered: 2_990, duplicates: 2, recoverySeconds: null }, { recoveryLimitS: 15 });
    expect(verdict.ok).toBe(false);
    expect(verdict.missing).toBe(10);
    expect(verdict.failures).toEqual(['10 of 3000 orders never delivered', '2 orders handled twice']);
  });

  it('when a real message was dead-lettered besides the poison, then the run fails', () => {
    const verdict = judge({ ...clean, deadLetters: { total: 13, poison: 12 } }, { recoveryLimitS: 15 });
    expect(verdict.failures).toEqual(['13 dead letters where the 12 poison entries written were expected (12 of them poison)']);
  });

  it('when recovery is slower than the limit, then the run fails; at the limit it passes', () => {
    expect(judge({ ...clean, recoverySeconds: 15.5 }, { recoveryLimitS: 15 }).failures).toEqual([
      'recovery took 15.5 s after the last fault (limit 15 s)',
    ]);
    expect(judge({ ...clean, recoverySeconds: 15 }, { recoveryLimitS: 15 }).ok).toBe(true);
    expect(judge({ ...clean, recoverySeconds: 30 }, { recoveryLimitS: 60 }).ok).toBe(true);
  });

  it('when the audit does not balance, a process crashed or a chunk was placed twice, then each is a failure', () => {
    const verdict = judge({ ...clean, auditOk: false, crashes: 1, unexpectedOrders: 25, unacceptedChunks: 1 }, { recoveryLimitS: 15 });
    expect(verdict.failures).toHaveLength(4);
  });
});

describe('recovery times', () => {
  const orders = [
    { placedAtMs: 1_000, deliveredAtMs: 3_000 },
    { placedAtMs: 9_000, deliveredAtMs: 17_500 },
    { placedAtMs: 12_000, deliveredAtMs: 14_000 },
  ];

  it('when a fault ends, then it has caught up once every order placed by then is delivered', () => {
    expect(caughtUpSeconds(10_000, orders)).toBe(7.5);
    expect(caughtUpSeconds(5_000, orders)).toBe(0);
    expect(caughtUpSeconds(20_000, orders)).toBe(0);
  });

  it('when an order placed before the fault ended was never delivered, then it never caught up', () => {
    expect(caughtUpSeconds(10_000, [...orders, { placedAtMs: 9_500, deliveredAtMs: null }])).toBeNull();
    expect(caughtUpSeconds(10_000, [...orders, { placedAtMs: 10_500, deliveredAtMs: null }])).toBe(7.5);
  });

  it('when the last fault ends, then recovery runs to the last delivery, and is null while an order is missing', () => {
    expect(recoverySeconds(12_000, orders)).toBe(5.5);
    expect(recoverySeconds(18_000, orders)).toBe(0);
    expect(recoverySeconds(12_000, [...orders, { placedAtMs: 13_000, deliveredAtMs: null }])).toBeNull();
  });
});
