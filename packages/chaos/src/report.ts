import type { ChaosResult } from './findings.js';
import type { ScheduledFault } from './schedule.js';

/** The schedule as the run will follow it, printed before the first fault. */
export function formatSchedule(schedule: readonly ScheduledFault[], seed: number): string {
  const lines = schedule.map(
    (fault) =>
      `    ${fault.atS.toFixed(1).padStart(6)} s  ${fault.kind.padEnd(22)} ${fault.target.padEnd(14)}` +
      (fault.holdS > 0 ? ` for ${fault.holdS} s` : ''),
  );
  return [`fault schedule (seed ${seed}; --seed ${seed} replays it):`, ...lines, 'load and faults:'].join('\n');
}

/** One step of a fault as it happens: `t=  23.4 s  kill  kitchen-2  SIGKILL`. */
export function formatFaultLine(atS: number, kind: string, target: string, detail: string): string {
  return `  t=${atS.toFixed(1).padStart(6)} s  ${kind.padEnd(22)} ${target.padEnd(14)} ${detail}`;
}

/** The verdict table. */
export function formatVerdict(result: ChaosResult): string {
  const { settings } = result;
  const mark = (ok: boolean) => (ok ? 'ok' : 'FAILED');
  const recovery = result.recoverySeconds === null ? 'never (orders missing)' : `${result.recoverySeconds} s`;
  const faultRows = result.faults.map(
    (fault) =>
      `    ${fault.at.toFixed(1).padStart(6)}  ${fault.kind.padEnd(22)} ${fault.target.padEnd(14)}` +
      `${`${fault.lastedS} s`.padStart(7)}   ${fault.recoverySeconds === null ? 'never' : `${fault.recoverySeconds} s`}`,
  );
  const deadLetters = result.deadLetters;
  const row = (label: string, value: string, verdict: string) => `  ${label.padEnd(26)}${value.padEnd(66)}  ${verdict}`.trimEnd();
  return [
    '',
    `Free Lunch chaos run: ${settings.durationS} s of faults at ${settings.rate} orders/s; ${settings.kitchens} kitchens, ` +
      `${settings.inventories} warehouses, orders ×1; seed ${result.seed}`,
    '  faults',
    `    ${'at (s)'}  ${'kind'.padEnd(22)} ${'target'.padEnd(14)}${'lasted'.padStart(7)}   caught up after`,
    ...faultRows,
    row('orders', `${result.orders} placed in ${result.load.chunks} chunks (${result.load.retries} retries)`, ''),
    row('delivered', `${result.delivered} (${result.missing} missing${stuck(result.missingByStatus)})`, mark(result.missing === 0)),
    row(
      'handled twice',
      `${result.duplicates} (two recipes ${result.duplicateKinds.twoRecipes}, wrong dispatches ${result.duplicateKinds.wrongDispatches})`,
      mark(result.duplicates === 0),
    ),
    row('placed twice', `${result.unexpectedOrders} orders the API never handed back`, mark(result.unexpectedOrders === 0)),
    ...(result.unacceptedChunks > 0 ? [row('never accepted', `${result.unacceptedChunks} chunks`, 'FAILED')] : []),
    row('stock audit', result.auditOk ? 'balanced' : 'does not balance', mark(result.auditOk)),
    row(
      'dead letters',
      `${deadLetters.total} (${deadLetters.poison} of the ${deadLetters.poisonInjected} poison entries written)`,
      mark(deadLetters.total === deadLetters.poisonInjected),
    ),
    row('crashes', result.crashes.length === 0 ? 'none' : result.crashes.map((crash) => `${crash.label} at ${crash.at} s`).join(', '), mark(result.crashes.length === 0)),
    row(
      'recovery',
      `${recovery} from the last fault's end to the last delivery (limit ${result.recoveryLimitS} s)`,
      mark(result.recoverySeconds !== null && result.recoverySeconds <= result.recoveryLimitS),
    ),
    row(
      'units sold, not recorded',
      `${result.unitsSoldNotRecorded} (market sold ${result.marketUnitsSold}, books hold ${result.unitsBought})`,
      '(not judged)',
    ),
    `  ${'verdict'.padEnd(26)}${result.ok ? 'OK' : `FAILED: ${result.failures.join('; ')}`}`,
  ].join('\n');
}

/** `: 600 awaiting_ingredients, 82 cooking`, or nothing when none is missing. */
function stuck(byStatus: Record<string, number>): string {
  const entries = Object.entries(byStatus);
  return entries.length === 0 ? '' : `: ${entries.map(([status, count]) => `${count} ${status}`).join(', ')}`;
}
