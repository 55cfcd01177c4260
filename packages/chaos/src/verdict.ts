/**
 * One order as the verdict needs it (epoch ms): when the client first asked for it (its chunk's first
 * POST, however long the service took to accept it) and, if it was, when it was delivered.
 */
export interface OrderTimes {
  placedAtMs: number;
  deliveredAtMs: number | null;
}

/**
 * Seconds from `endMs` (a fault's end) until the system had caught up: every order asked for by then
 * delivered (also those the service could only accept after the fault). 0 when they all were delivered before it ended; null when some never were.
 */
export function caughtUpSeconds(endMs: number, orders: readonly OrderTimes[]): number | null {
  let lastDeliveredAtMs = endMs;
  for (const order of orders) {
    if (order.placedAtMs > endMs) continue;
    if (order.deliveredAtMs === null) return null;
    lastDeliveredAtMs = Math.max(lastDeliveredAtMs, order.deliveredAtMs);
  }
  return round2((lastDeliveredAtMs - endMs) / 1000);
}

/**
 * Seconds from the end of the last fault to the last delivery, with every order delivered; 0 when
 * the last order was delivered before the last fault ended, null when some order never was.
 */
export function recoverySeconds(lastFaultEndMs: number, orders: readonly OrderTimes[]): number | null {
  if (orders.some((order) => order.deliveredAtMs === null)) return null;
  const lastDeliveredAtMs = Math.max(lastFaultEndMs, ...orders.map((order) => order.deliveredAtMs!));
  return round2((lastDeliveredAtMs - lastFaultEndMs) / 1000);
}

/** The counts a run is judged on. */
export interface Findings {
  /** Orders the API accepted. */
  orders: number;
  /** Of those, delivered. */
  delivered: number;
  /** Orders delivered twice, given two recipes, or dispatched other than once for their recipe. */
  duplicates: number;
  /** Orders in the database the API never handed back: a retried request placed twice. */
  unexpectedOrders: number;
  /** Chunks of orders whose POST was never accepted, however often it was sent. */
  unacceptedChunks: number;
  auditOk: boolean;
  deadLetters: { total: number; poison: number };
  poisonInjected: number;
  /** Service processes that exited without being killed by the run. */
  crashes: number;
  /** See {@link recoverySeconds}. */
  recoverySeconds: number | null;
}

export interface Verdict {
  ok: boolean;
  missing: number;
  /** One line per failed check, in the words of the report. */
  failures: string[];
}

/**
 * Whether the system came through: nothing missing, nothing twice, the audit balanced, no dead
 * letter but the poison the run wrote, no process dying of its own accord, and every order delivered
 * within `recoveryLimitS` of the last fault's end.
 */
export function judge(findings: Findings, { recoveryLimitS }: { recoveryLimitS: number }): Verdict {
  const missing = findings.orders - findings.delivered;
  const failures: string[] = [];
  if (missing > 0) failures.push(`${missing} of ${findings.orders} orders never delivered`);
  if (findings.duplicates > 0) failures.push(`${findings.duplicates} orders handled twice`);
  if (findings.unexpectedOrders > 0) failures.push(`${findings.unexpectedOrders} orders placed twice by a retried request`);
  if (findings.unacceptedChunks > 0) failures.push(`${findings.unacceptedChunks} chunks of orders never accepted`);
  if (!findings.auditOk) failures.push('the stock audit does not balance');
  if (findings.deadLetters.total !== findings.poisonInjected) {
    failures.push(
      `${findings.deadLetters.total} dead letters where the ${findings.poisonInjected} poison entries written were expected` +
        ` (${findings.deadLetters.poison} of them poison)`,
    );
  }
  if (findings.crashes > 0) failures.push(`${findings.crashes} service processes exited on their own`);
  if (findings.recoverySeconds === null) {
    if (missing === 0) failures.push('recovery could not be measured');
  } else if (findings.recoverySeconds > recoveryLimitS) {
    failures.push(`recovery took ${findings.recoverySeconds} s after the last fault (limit ${recoveryLimitS} s)`);
  }
  return { ok: failures.length === 0, missing, failures };
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
