/** What `pnpm dead-letters` prints for a person: tables of letters, a line per letter acted on. */
import type { StreamName } from '@free-lunch/contracts';
import type { DeadLetterEntry, DeadLetterListing, DeadLetterOutcome, MessageSummary } from './dead-letter-admin.js';

const OUTCOME_WORDS: Record<DeadLetterOutcome['outcome'], string> = {
  redriven: 're-driven',
  'would-redrive': 'would be re-driven',
  dropped: 'dropped',
  'would-drop': 'would be dropped',
  refused: 'refused',
  'not-found': 'not found',
};

/** Longest reason shown in a table; `--json` has the whole of it. */
const REASON_WIDTH = 120;

/** Each stream's count, then a table of its oldest letters. */
export function formatListing(listings: DeadLetterListing[], limit: number): string {
  const lines: string[] = [];
  for (const { stream, key, count, letters, refusal } of listings) {
    if (refusal) {
      lines.push(`${stream}: not readable by this Redis user (${oneLine(refusal)})`);
      continue;
    }
    if (count === 0) {
      lines.push(`${stream}: no dead letters`);
      continue;
    }
    lines.push(`${stream}: ${count} dead ${count === 1 ? 'letter' : 'letters'} (${key})`);
    if (letters.length > 0) lines.push(...table(letters).map((line) => `  ${line}`));
    if (count > letters.length) {
      lines.push(`  … ${count - letters.length} more; --limit ${Math.max(count, limit)} to see them, or --json`);
    }
  }
  return lines.join('\n');
}

function table(letters: DeadLetterEntry[]): string[] {
  const rows = letters.map(({ id, letter, summary, problem, forcible }) => [
    id,
    letter?.messageId ?? '-',
    letter?.group ?? '-',
    letter ? String(letter.deliveries) : '-',
    letter?.at ?? '-',
    describe(summary) + (problem ? (forcible ? ' [poison]' : ' [cannot re-drive]') : ''),
    oneLine(letter?.reason ?? problem ?? ''),
  ]);
  const header = ['DEAD-LETTER ID', 'MESSAGE ID', 'GROUP', 'DELIVERIES', 'AT', 'MESSAGE', 'REASON'];
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => row[column]!.length)));
  // The last column is not padded, so lines end where their text does.
  const format = (row: string[]) => row.map((cell, column) => (column === row.length - 1 ? cell : cell.padEnd(widths[column]!))).join('  ');
  return [format(header), ...rows.map(format)];
}

/** One line per letter chosen, then a count of each outcome. */
export function formatOutcomes(
  command: 'redrive' | 'drop',
  stream: StreamName,
  outcomes: DeadLetterOutcome[],
  dryRun: boolean,
): string {
  if (outcomes.length === 0) return `${stream}: no dead letters`;
  const lines = outcomes.map((outcome) => {
    const what = `${outcome.id} (${describe(outcome.summary)}${outcome.messageId ? `, was ${outcome.messageId}` : ''})`;
    switch (outcome.outcome) {
      case 'redriven':
        return `re-drove ${what} → ${stream} ${outcome.newId}${outcome.detail ? ` (forced past ${oneLine(outcome.detail)})` : ''}`;
      case 'would-redrive':
        return `would re-drive ${what} → ${stream}${outcome.detail ? ` (forced past ${oneLine(outcome.detail)})` : ''}`;
      case 'dropped':
        return `dropped ${what}`;
      case 'would-drop':
        return `would drop ${what}`;
      case 'refused':
        return `refused ${what}: ${oneLine(outcome.detail ?? '')}`;
      case 'not-found':
        return `not found ${outcome.id}: not in ${stream}'s dead letters (already re-driven or dropped?)`;
    }
  });
  const counts = new Map<string, number>();
  for (const { outcome } of outcomes) counts.set(outcome, (counts.get(outcome) ?? 0) + 1);
  const summary = [...counts].map(([outcome, count]) => `${count} ${OUTCOME_WORDS[outcome as DeadLetterOutcome['outcome']]}`).join(', ');
  lines.push(`${stream}: ${summary}${dryRun ? ' (dry run: nothing changed)' : ''}`);
  if (command === 'redrive' && counts.has('refused')) {
    lines.push(`Refused letters stay; a consumer would dead-letter them again. Drop them with pnpm dead-letters drop --stream ${stream} --id ID, or re-drive them anyway with --force.`);
  }
  return lines.join('\n');
}

/** Whether every chosen letter was (or on a dry run would be) re-driven or dropped. */
export function outcomesSucceeded(outcomes: DeadLetterOutcome[]): boolean {
  return outcomes.every(({ outcome }) => outcome !== 'refused' && outcome !== 'not-found');
}

function describe(summary: MessageSummary | null): string {
  if (!summary?.type) return 'unreadable message';
  const version = summary.version === null ? '' : ` v${summary.version}`;
  return `${summary.type}${version}${summary.orderId ? ` ${summary.orderId}` : ''}`;
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > REASON_WIDTH ? `${flat.slice(0, REASON_WIDTH - 1)}…` : flat;
}
