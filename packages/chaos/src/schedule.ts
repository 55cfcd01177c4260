import { seededRandom, type Random } from '@free-lunch/market-simulator';

/**
 * The faults a chaos run can inject. `kill` stands for one SIGKILL of each kind of service process
 * (orders, kitchen, inventory), each restarted after a moment.
 */
export const faultKinds = [
  'kill',
  'postgres-sessions-cut',
  'postgres-outage',
  'redis-connections-cut',
  'redis-wipe',
  'market-5xx',
  'market-timeouts',
  'market-slow',
  'market-garbage',
  'poison',
] as const;
export type FaultKind = (typeof faultKinds)[number];

/** One fault of the schedule: what, against which part, when (s after the load starts) and for how long. */
export interface ScheduledFault {
  atS: number;
  kind: FaultKind;
  /** A process label (`kitchen-2`), or the part of the system the fault hits (`postgres`, `market`, …). */
  target: string;
  /** Seconds the fault is held before it is undone: a killed process's time down, an outage's length; 0 for a blow. */
  holdS: number;
}

export interface ScheduleSettings {
  seed: number;
  /** Seconds of the injection phase: the last fault ends exactly then. */
  durationS: number;
  kinds: readonly FaultKind[];
  replicas: { orders: number; kitchen: number; inventory: number };
  postgresOutageS: number;
  marketFaultS: number;
  restartAfterS: number;
}

/** A schedule that cannot fit; the message says which option to change. */
export class ScheduleError extends Error {
  override name = 'ScheduleError';
}

/** Seconds between the end of one fault and the start of the next, at the least. */
const MIN_GAP_S = 2;

/**
 * How long the timed faults last when the user does not say: a tenth of the run for the PostgreSQL
 * outage (5–20 s) and a twentieth for each market fault (3–8 s), so a one-minute run fits every
 * fault and a longer one holds them long enough to matter.
 */
export function defaultHolds(durationS: number): { postgresOutageS: number; marketFaultS: number } {
  return {
    postgresOutageS: clamp(Math.round(durationS * 0.1), 5, 20),
    marketFaultS: clamp(Math.round(durationS * 0.05), 3, 8),
  };
}

/**
 * The run's faults, in order, from its seed: the same settings always give the same schedule. The
 * faults come in a shuffled order, one at a time, with shuffled gaps of at least two seconds, after
 * a lead-in of quiet load; the last one ends when the injection phase does. Poison comes after the
 * Redis wipe, which would otherwise delete the dead letters it leaves behind.
 * @throws ScheduleError when the faults cannot fit in `durationS`
 */
export function planSchedule(settings: ScheduleSettings): ScheduledFault[] {
  const random = seededRandom(settings.seed);
  const blows = shuffle(
    settings.kinds.flatMap((kind) => faultsOfKind(kind, settings, random)),
    random,
  );
  const wipe = blows.findIndex((fault) => fault.kind === 'redis-wipe');
  const poison = blows.findIndex((fault) => fault.kind === 'poison');
  if (wipe !== -1 && poison !== -1 && poison < wipe) blows.splice(wipe, 0, ...blows.splice(poison, 1));
  if (blows.length === 0) return [];

  const leadInS = leadIn(settings.durationS);
  const heldS = blows.reduce((sum, fault) => sum + fault.holdS, 0);
  const neededS = leadInS + heldS + MIN_GAP_S * (blows.length - 1);
  if (neededS > settings.durationS) {
    throw new ScheduleError(
      `--duration ${settings.durationS} is too short for these faults: they need at least ${Math.ceil(neededS)} s ` +
        '(or shorten --pg-outage / --market-fault, or choose fewer with --faults)',
    );
  }
  // The free time goes to the gaps in random shares: one before the first fault, one after each other.
  const weights = blows.map(() => 0.5 + random());
  const totalWeight = weights.reduce((sum, weight) => sum + weight, 0);
  const freeS = settings.durationS - neededS;
  let atS = leadInS;
  return blows.map((fault, index) => {
    atS += (index === 0 ? 0 : MIN_GAP_S) + (freeS * weights[index]!) / totalWeight;
    const scheduled = { ...fault, atS: round1(atS) };
    atS += fault.holdS;
    return scheduled;
  });
}

/** The faults one kind stands for: `kill` is one kill of each kind of process, on a replica picked at random. */
function faultsOfKind(kind: FaultKind, settings: ScheduleSettings, random: Random): Array<Omit<ScheduledFault, 'atS'>> {
  switch (kind) {
    case 'kill':
      return (['orders', 'kitchen', 'inventory'] as const).map((service) => ({
        kind,
        target: replicaLabel(service, settings.replicas[service], random),
        holdS: settings.restartAfterS,
      }));
    case 'postgres-outage':
      return [{ kind, target: 'postgres', holdS: settings.postgresOutageS }];
    case 'postgres-sessions-cut':
      return [{ kind, target: 'postgres', holdS: 0 }];
    case 'redis-connections-cut':
    case 'redis-wipe':
      return [{ kind, target: 'redis', holdS: 0 }];
    case 'poison':
      return [{ kind, target: 'work streams', holdS: 0 }];
    default:
      return [{ kind, target: 'market', holdS: settings.marketFaultS }];
  }
}

/**
 * The label of a service's process, as the chaos stack names them: `orders` when there is one,
 * `kitchen-1`, `kitchen-2`, … when there are several (a lone kitchen or warehouse is `kitchen-1`).
 */
export function replicaLabel(service: 'orders' | 'kitchen' | 'inventory', replicas: number, random: Random): string {
  if (service === 'orders' && replicas === 1) return 'orders';
  return `${service}-${1 + Math.floor(random() * replicas)}`;
}

/** Quiet load before the first fault, so the pipeline is warm when it lands: a tenth of the run, 3–10 s. */
function leadIn(durationS: number): number {
  return clamp(Math.round(durationS * 0.1), 3, 10);
}

function shuffle<T>(items: T[], random: Random): T[] {
  for (let i = items.length - 1; i > 0; i -= 1) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j]!, items[i]!];
  }
  return items;
}

function clamp(value: number, min: number, max: number): number {
  return Math.min(max, Math.max(min, value));
}

function round1(value: number): number {
  return Math.round(value * 10) / 10;
}
