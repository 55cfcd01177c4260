/** The market's misbehaviours a run injects, as `PUT /config` patches of the simulator. */
export const marketFaults = {
  /** Half the calls answer 500. */
  'market-5xx': { failureRate: 0.5, faultKinds: ['http500'] },
  /** A third of the calls hang for 10 s, well past the warehouse's MARKET_TIMEOUT_MS. */
  'market-timeouts': { failureRate: 0.3, faultKinds: ['timeout'], hangMs: 10_000 },
  /**
   * Every answer takes 0.8–1.2 s: slow, but within the warehouse's default 2 s timeout, so what the
   * market sells is still heard (a slower answer would be a timeout, whose units the market counts sold).
   */
  'market-slow': { latencyMs: 800, latencyJitterMs: 400 },
  /** Half the calls answer garbage: an HTML page, negative, fractional or absurd quantities. */
  'market-garbage': { failureRate: 0.5, faultKinds: ['nonJson', 'negative', 'fractional', 'absurd'] },
} as const;
export type MarketFault = keyof typeof marketFaults;

/** Options the faults change, to put back as they were. */
const RESTORED = ['latencyMs', 'latencyJitterMs', 'failureRate', 'faultKinds', 'hangMs'] as const;

/** Sets the market misbehaving; resolves with a function that puts its options back. */
export async function misbehave(marketUrl: string, fault: MarketFault): Promise<() => Promise<void>> {
  const before = (await configure(marketUrl, 'GET')) as Record<string, unknown>;
  await configure(marketUrl, 'PUT', marketFaults[fault]);
  const restore = Object.fromEntries(RESTORED.map((name) => [name, before[name]]));
  return async () => {
    await configure(marketUrl, 'PUT', restore);
  };
}

/** Units the market says it sold since it started (`GET /stats`). */
export async function marketUnitsSold(marketUrl: string): Promise<number> {
  const response = await fetch(`${marketUrl}/stats`);
  if (!response.ok) throw new Error(`GET /stats of the market answered ${response.status}`);
  return ((await response.json()) as { totals: { unitsSold: number } }).totals.unitsSold;
}

async function configure(marketUrl: string, method: 'GET' | 'PUT', body?: object): Promise<unknown> {
  const response = await fetch(`${marketUrl}/config`, {
    method,
    ...(body && { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
  if (!response.ok) throw new Error(`${method} /config of the market answered ${response.status}: ${await response.text()}`);
  return response.json();
}
