import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import { enqueueOutbox } from '@free-lunch/streams';
import type { Ingredient } from '@free-lunch/contracts';
import { planDispatches } from '../domain/dispatch-plan.js';
import { recordDispatches } from '../data/ledger.js';
import { loadPendingRequests, markDispatched, type QueuedRequest } from '../data/requests.js';
import { adjustStock, lockStock } from '../data/stock.js';
import { inTransaction } from '@free-lunch/service-kit';
import type { InventoryMetrics } from '../metrics.js';
import { SingleFlight } from '../support/wakeup.js';
import { ingredientsDispatched, OUTBOX_TABLE, stockChanged } from './events.js';

/**
 * The queue is read a page at a time, and only as far as it could help: with reservation, once what
 * the waiting requests have not claimed makes no dish at all, nothing further back can be served,
 * so a long backlog waiting for the market costs one small page per allocation, not a scan.
 */
const QUEUE_PAGE = 200;
/** Never look further back than this many waiting requests in one allocation. */
const QUEUE_WINDOW = 10_000;

/** Allocations also run this often unprompted: a retry after a failure, and a guard against lost wake-ups. */
const SWEEP_INTERVAL_MS = 2_000;

export interface AllocationDeps {
  pool: pg.Pool;
  metrics: InventoryMetrics;
}

export interface AllocationResult {
  dispatched: number;
  waiting: number;
}

/**
 * Hands waiting requests their ingredients, in ONE transaction: lock the stock, take the oldest
 * waiting requests, decide which can be served, then take the units out, write them in the ledger,
 * mark those requests dispatched, and enqueue `ingredients.dispatched` per order plus one stock
 * snapshot. Either all of it commits or none of it does.
 */
export async function allocateStock({ pool, metrics }: AllocationDeps): Promise<AllocationResult> {
  const result = await inTransaction(pool, async (client) => {
    // Locking first serializes allocators across replicas, and means the queue read next reflects
    // every dispatch committed before us.
    const stock = await lockStock(client);
    const plan = await planFromQueue(client, stock);
    if (plan.dispatches.length === 0) return { dispatched: 0, waiting: plan.waiting, unitsOut: plan.unitsOut };

    const dispatchedAt = new Date();
    await adjustStock(client, negated(plan.unitsOut));
    await recordDispatches(client, plan.dispatches, dispatchedAt);
    const marked = await markDispatched(client, plan.dispatches.map((request) => request.orderId), dispatchedAt);
    if (marked !== plan.dispatches.length) {
      // Cannot happen while everyone locks the stock first; if it does, hand nothing out twice.
      throw new Error(`expected to dispatch ${plan.dispatches.length} requests, ${marked} were still pending`);
    }
    await enqueueOutbox(client, OUTBOX_TABLE, [
      ...plan.dispatches.map((request) => ingredientsDispatched({ ...request, dispatchedAt })),
      stockChanged('dispatch', plan.stockAfter, dispatchedAt),
    ]);
    return { dispatched: plan.dispatches.length, waiting: plan.waiting, unitsOut: plan.unitsOut };
  });

  for (const [ingredient, units] of result.unitsOut) metrics.unitsDispatched(ingredient, units);
  return { dispatched: result.dispatched, waiting: result.waiting };
}

/** Reads the queue oldest first, page by page, until the plan cannot serve anyone further back. */
async function planFromQueue(client: pg.ClientBase, stock: ReadonlyMap<Ingredient, number>) {
  const queue: QueuedRequest[] = [];
  for (;;) {
    const page = await loadPendingRequests(client, { after: queue.at(-1)?.arrival ?? null, limit: QUEUE_PAGE });
    queue.push(...page);
    const plan = planDispatches(stock, queue);
    if (plan.exhausted || page.length < QUEUE_PAGE || queue.length >= QUEUE_WINDOW) return plan;
  }
}

function negated(units: ReadonlyMap<Ingredient, number>): Map<Ingredient, number> {
  return new Map([...units].map(([ingredient, n]) => [ingredient, -n]));
}

/**
 * Runs allocations in the background: one at a time per process, however many wake-ups arrive (a
 * burst of consumer batches and purchase rounds folds into one more allocation), plus a periodic
 * sweep. Replicas each run their own; the stock lock makes them take turns.
 */
export class Allocator {
  readonly #flight: SingleFlight;
  #sweep: NodeJS.Timeout | null = null;

  constructor(
    private readonly deps: AllocationDeps & {
      logger: FastifyBaseLogger;
      /** Called after a commit that enqueued events, so they are published now. */
      onDispatched: () => void;
    },
  ) {
    this.#flight = new SingleFlight(
      () => this.#allocate(),
      (error) => deps.logger.error({ err: error }, 'allocation failed; retrying at the next sweep'),
    );
  }

  /** Starts sweeping and allocates at once: requests may have waited while the service was down. */
  start(): void {
    this.#sweep = setInterval(() => this.wake(), SWEEP_INTERVAL_MS);
    this.#sweep.unref();
    this.wake();
  }

  /** Something changed (requests arrived, stock was bought): allocate soon. */
  wake(): void {
    this.#flight.request();
  }

  /** Stops sweeping; resolves once the allocation in progress has committed or rolled back. */
  async stop(): Promise<void> {
    if (this.#sweep) clearInterval(this.#sweep);
    await this.#flight.stop();
  }

  async #allocate(): Promise<void> {
    const { dispatched, waiting } = await allocateStock(this.deps);
    if (dispatched > 0) {
      this.deps.onDispatched();
      this.deps.logger.debug({ dispatched, waiting }, 'ingredients dispatched');
    }
  }
}
