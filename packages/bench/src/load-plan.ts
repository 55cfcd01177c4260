/** How the benchmark offers its orders. */
export type LoadPlan =
  | {
      mode: 'burst';
      /** Orders placed, all at once. */
      orders: number;
    }
  | {
      mode: 'steady';
      /** Offered orders per second. */
      rate: number;
      /** Seconds of offering. */
      durationS: number;
      /** One request every this many milliseconds, carrying what is due by then. */
      intervalMs: number;
    };

/** Orders the plan places in all. */
export function plannedOrders(plan: LoadPlan): number {
  return plan.mode === 'burst' ? plan.orders : Math.round(plan.rate * plan.durationS);
}

/**
 * A burst as request sizes: as few requests as the API allows (each at most `maxPerRequest`), all
 * sent at once. 10,000 with a maximum of 1,000 is ten requests of 1,000.
 */
export function burstRequests(orders: number, maxPerRequest: number): number[] {
  const sizes: number[] = [];
  for (let left = orders; left > 0; left -= maxPerRequest) sizes.push(Math.min(left, maxPerRequest));
  return sizes;
}

/**
 * A steady offer as a schedule: the request at `atMs` (from the start) carries every order due by
 * then that earlier requests did not, so the total is exact however the rate divides and the offer
 * stays open-loop — it never waits for deliveries. A tick with nothing due sends nothing, and a
 * tick with more than `maxPerRequest` due sends several requests at once.
 */
export function steadySchedule(
  plan: Extract<LoadPlan, { mode: 'steady' }>,
  maxPerRequest: number,
): Array<{ atMs: number; quantity: number }> {
  const total = plannedOrders(plan);
  const durationMs = plan.durationS * 1000;
  const schedule: Array<{ atMs: number; quantity: number }> = [];
  let placed = 0;
  for (let atMs = plan.intervalMs; placed < total; atMs += plan.intervalMs) {
    const due = atMs >= durationMs ? total : Math.min(total, Math.floor((plan.rate * atMs) / 1000));
    for (const quantity of burstRequests(due - placed, maxPerRequest)) schedule.push({ atMs, quantity });
    placed = due;
  }
  return schedule;
}

/** Warm-up orders per second in a burst run (a steady run warms up at its own rate). */
const BURST_WARMUP_RATE = 200;

/** The warm-up offer before the measured one, if any: `warmupS` seconds at the run's rate (a burst: at 200/s). */
export function warmupPlan(settings: { load: LoadPlan; warmupS: number }): LoadPlan | null {
  if (settings.warmupS <= 0) return null;
  const rate = settings.load.mode === 'steady' ? settings.load.rate : BURST_WARMUP_RATE;
  const intervalMs = settings.load.mode === 'steady' ? settings.load.intervalMs : 50;
  return { mode: 'steady', rate, durationS: settings.warmupS, intervalMs };
}
