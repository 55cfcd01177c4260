import { onTestFinished } from 'vitest';
import { startMarketSimulator, type RunningMarketSimulator, type StartMarketSimulatorOptions } from '../src/index.js';

/** A simulator on a random 127.0.0.1 port, closed when the test ends. */
export async function openMarket(options: StartMarketSimulatorOptions = {}): Promise<RunningMarketSimulator> {
  const market = await startMarketSimulator({ logLevel: 'warn', ...options });
  onTestFinished(() => market.close());
  return market;
}

export interface MarketResponse {
  status: number;
  contentType: string;
  body: string;
}

/** One call to the buy URL, as the warehouse makes it. */
export async function buy(
  market: RunningMarketSimulator,
  ingredient: string | undefined,
  init: RequestInit = {},
): Promise<MarketResponse> {
  const url = new URL(market.url);
  if (ingredient !== undefined) url.searchParams.set('ingredient', ingredient);
  const response = await fetch(url, init);
  return {
    status: response.status,
    contentType: response.headers.get('content-type') ?? '',
    body: await response.text(),
  };
}

/** `quantitySold` of a 200 JSON answer; fails the test on anything else. */
export async function quantitySold(market: RunningMarketSimulator, ingredient = 'tomato'): Promise<number> {
  const response = await buy(market, ingredient);
  if (response.status !== 200) throw new Error(`expected 200, got ${response.status}: ${response.body}`);
  return (JSON.parse(response.body) as { quantitySold: number }).quantitySold;
}

/** `count` calls one after another, so a seeded market answers in a known order. */
export async function buyInTurn(market: RunningMarketSimulator, count: number, ingredient = 'tomato') {
  const responses: MarketResponse[] = [];
  for (let call = 0; call < count; call += 1) responses.push(await buy(market, ingredient));
  return responses;
}

export async function admin(
  market: RunningMarketSimulator,
  method: 'GET' | 'POST' | 'PUT',
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const response = await fetch(new URL(path, market.baseUrl), {
    method,
    ...(body === undefined
      ? {}
      : { headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: response.status, json: await response.json() };
}
