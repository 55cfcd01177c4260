import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { PlaceOrdersResponse } from '@free-lunch/contracts';
import { burstRequests, steadySchedule, type LoadPlan } from './load-plan.js';

/** What placing the orders took, as the manager's client saw it. */
export interface Placement {
  /** Epoch ms just before the first POST left. */
  startedAt: number;
  /** Epoch ms when the last POST was answered. */
  finishedAt: number;
  /** Id of every order the API created. */
  orderIds: string[];
  /** Response time of each POST /orders, in ms. */
  requestMs: number[];
}

/** Attempts per POST; a retry carries the same Idempotency-Key, so it can never place twice. */
const ATTEMPTS = 3;

/**
 * Places the plan's orders over the public API. A burst sends every request at once; a steady
 * offer sends one every `intervalMs` without waiting for earlier answers (open loop), so a slow
 * system sees the load pile up as a real client's would. `onPlaced` is told as orders are created.
 */
export async function placeOrders(
  plan: LoadPlan,
  api: { ordersUrl: string; managerToken: string; maxPerRequest: number },
  { signal, onPlaced }: { signal: AbortSignal; onPlaced: (count: number) => void },
): Promise<Placement> {
  const orderIds: string[] = [];
  const requestMs: number[] = [];
  const post = async (quantity: number) => {
    const began = performance.now();
    const ids = await postOrders(api, quantity, signal);
    requestMs.push(performance.now() - began);
    orderIds.push(...ids);
    onPlaced(ids.length);
  };

  const startedAt = Date.now();
  if (plan.mode === 'burst') {
    await Promise.all(burstRequests(plan.orders, api.maxPerRequest).map(post));
  } else {
    const inFlight: Array<Promise<void>> = [];
    const origin = performance.now();
    for (const { atMs, quantity } of steadySchedule(plan, api.maxPerRequest)) {
      const wait = origin + atMs - performance.now();
      if (wait > 0) await sleep(wait, undefined, { signal });
      const request = post(quantity);
      // Failures surface through Promise.all below; this only keeps Node from calling them unhandled meanwhile.
      request.catch(() => undefined);
      inFlight.push(request);
    }
    await Promise.all(inFlight);
  }
  return { startedAt, finishedAt: Date.now(), orderIds, requestMs };
}

async function postOrders(
  api: { ordersUrl: string; managerToken: string },
  quantity: number,
  signal: AbortSignal,
): Promise<string[]> {
  const idempotencyKey = randomUUID();
  let lastError: unknown;
  for (let attempt = 1; attempt <= ATTEMPTS; attempt += 1) {
    try {
      const response = await fetch(`${api.ordersUrl}/orders`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${api.managerToken}`,
          'content-type': 'application/json',
          'idempotency-key': idempotencyKey,
        },
        body: JSON.stringify({ quantity }),
        signal,
      });
      const body = await response.text();
      if (response.status === 202) {
        return PlaceOrdersResponse.parse(JSON.parse(body)).orders.map((order) => order.id);
      }
      lastError = new Error(`POST /orders answered ${response.status}: ${body.slice(0, 300)}`);
      // A 4xx is the benchmark's mistake: retrying cannot help.
      if (response.status < 500) break;
    } catch (error) {
      if (signal.aborted) throw error;
      lastError = error;
    }
  }
  throw lastError;
}
