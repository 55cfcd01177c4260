import type { FastifyBaseLogger } from 'fastify';
import type pg from 'pg';
import type { Ingredient } from '@free-lunch/contracts';
import { Loop } from '@free-lunch/service-kit';
import { enqueueOutbox, type OutboxRows, type OutgoingMessage, type PublishCommitted } from '@free-lunch/streams';
import { dispatchRequests, loadPendingRequests, type QueueHeadSize, type QueuePage, type QueuedRequest } from '../data/requests.js';
import { OUTBOX_TABLE } from '../data/schema.js';
import { adjustStock, readStockAndQueueHead, withStockLocked } from '../data/stock.js';
import { makesAnyDish, planDispatches } from '../domain/dispatch-plan.js';
import type { InventoryMetrics } from '../metrics.js';
import { ingredientsDispatched, stockChanged } from './outbox-messages.js';

/**
 * The queue is read a page at a time, and only as far as it could help: with reservation, once what
 * the waiting requests have not claimed makes no dish at all, nothing further back can be served,
 * so a long backlog waiting for the market costs one small page per allocation, not a scan. The
 * first page is sized to the stock (every dish takes at least four units; a third of the units on
 * hand leaves room for requests that only claim what they need), each further one twice the last,
 * up to this.
 */
const QUEUE_PAGE_MAX = 1_000;
/** Requests read beyond what the stock could serve, so the first page usually settles it. */
const QUEUE_PAGE_SLACK = 16;
/** Never look further back than this many waiting requests in one allocation. */
const QUEUE_WINDOW = 10_000;

/** How the first page of the queue is sized to the stock. */
export const QUEUE_HEAD: QueueHeadSize = { max: QUEUE_PAGE_MAX, slack: QUEUE_PAGE_SLACK };

/** Shortest time between the starts of two allocations of one process. */
const MIN_ALLOCATION_GAP_MS = 20;

/**
 * Allocations also run this often unprompted: a retry after a failure, a guard against lost wake-ups,
 * and what serves new requests while no replica is the purchaser (at start-up, or while another
 * replica takes over), since only the purchaser is woken by them.
 */
const SWEEP_INTERVAL_MS = 2_000;

export interface AllocationDeps {
  pool: pg.Pool;
  metrics: InventoryMetrics;
}

export interface AllocationResult {
  dispatched: number;
  /** The outbox rows it wrote, to publish once committed. */
  outbox: OutboxRows;
  /** Requests looked at that keep waiting; null when none was looked at (nothing on hand makes a dish). */
  waiting: number | null;
}

/** What one allocation handed out. */
export interface Allocation extends AllocationResult {
  /** Units that left the warehouse, per ingredient. */
  unitsOut: Map<Ingredient, number>;
  /**
   * The read stopped at {@link QUEUE_WINDOW} requests with stock left that might serve one further
   * back: another allocation, reading from the new head of the queue, may serve more.
   */
  cutShort: boolean;
}

/**
 * Hands waiting requests their ingredients, in ONE transaction: lock the stock, then
 * {@link dispatchWhatFits}. Either all of it commits or none of it does.
 *
 * Most allocations serve nobody: with a queue waiting for the market, what is on hand either makes
 * no dish at all or is claimed by the requests at the head of the queue. That is found out first,
 * from the stock and the queue as last committed, without the stock lock, so such an allocation
 * never holds up a purchase round that is recording. Only a plan that serves someone takes the lock
 * and plans again on what it holds.
 *
 * Skipping on that preview leaves nobody waiting who could be served, as long as the stock is read
 * before the queue and the purchaser wakes the allocator as it does (`onBought`, `onNewRequests`):
 * see docs/design.md (Purchasing and allocation) for why. Wake-ups that arrive while an
 * allocation runs fold into one more run (the allocator's `Loop`).
 */
export async function allocateStock({ pool, metrics }: AllocationDeps): Promise<AllocationResult> {
  // The stock, then the head of the queue, in one round trip; further pages, if needed, after.
  const { stock: onHand, head } = await readStockAndQueueHead(pool, QUEUE_HEAD);
  if (!makesAnyDish(onHand)) return { dispatched: 0, waiting: null, outbox: [] };
  const preview = await planFromQueue(pool, onHand, head);
  if (preview.dispatches.length === 0) return { dispatched: 0, waiting: preview.waiting, outbox: [] };

  // Locking first serializes allocators across replicas, and means the queue read with the lock
  // reflects every dispatch committed before us.
  const result = await withStockLocked(pool, QUEUE_HEAD, (client, { stock, head }) => dispatchWhatFits(client, stock, head));

  for (const [ingredient, units] of result.unitsOut) metrics.unitsDispatched(ingredient, units);
  return { dispatched: result.dispatched, waiting: result.waiting, outbox: result.outbox };
}

/** What a purchase recording adds to the dispatch that follows it in the same transaction. */
export interface BoughtMeanwhile {
  /** Units the transaction bought, not yet added to the stock row: added with the dispatch's change. */
  units: ReadonlyMap<Ingredient, number>;
  /** Events of the transaction, enqueued ahead of the dispatch's. */
  events: OutgoingMessage[];
}

/**
 * Inside the caller's transaction, which holds the stock lock and passes the stock as it stands and
 * the head of the queue read under the lock ({@link withStockLocked}): take the oldest waiting
 * requests, decide which can be served, then in one statement take the
 * units out, write them in the ledger, mark those requests dispatched and enqueue
 * `ingredients.dispatched` per order plus one stock snapshot. A purchase round calls it too, with
 * what it bought (`bought`: the stock passed includes it, the stock row not yet), so new stock
 * reaches the waiting dishes without a second transaction, and the stock row and the outbox are
 * written once for both.
 */
export async function dispatchWhatFits(
  client: pg.ClientBase,
  stock: ReadonlyMap<Ingredient, number>,
  head: QueuePage,
  bought: BoughtMeanwhile = { units: new Map(), events: [] },
): Promise<Allocation> {
  const plan = await planFromQueue(client, stock, head);
  const { cutShort } = plan;
  if (plan.dispatches.length === 0) {
    await adjustStock(client, bought.units);
    const outbox = await enqueueOutbox(client, OUTBOX_TABLE, bought.events);
    return { dispatched: 0, waiting: plan.waiting, unitsOut: plan.unitsOut, cutShort, outbox };
  }

  const dispatchedAt = new Date();
  const stockDelta = new Map(bought.units);
  for (const [ingredient, units] of plan.unitsOut) stockDelta.set(ingredient, (stockDelta.get(ingredient) ?? 0) - units);
  const announcements = [
    ...bought.events,
    ...plan.dispatches.map((request) => ingredientsDispatched({ ...request, dispatchedAt })),
    stockChanged('dispatch', plan.stockAfter, dispatchedAt),
  ].map((message) => ({ ...message, key: '' }));
  const { marked, outbox } = await dispatchRequests(client, { requests: plan.dispatches, at: dispatchedAt, stockDelta }, announcements);
  if (marked !== plan.dispatches.length) {
    // Cannot happen while everyone locks the stock first; if it does, hand nothing out twice.
    throw new Error(`expected to dispatch ${plan.dispatches.length} requests, ${marked} were still pending`);
  }
  return { dispatched: plan.dispatches.length, waiting: plan.waiting, unitsOut: plan.unitsOut, cutShort, outbox };
}

/**
 * Plans from the head of the queue, then reads on oldest first, page by page, until the plan cannot
 * serve anyone further back. Under the stock lock the pages are consistent with the stock; on the
 * pool (the preview) each further page is its own snapshot, possibly on another connection, which
 * is only good enough to decide whether to lock.
 */
async function planFromQueue(db: pg.Pool | pg.ClientBase, stock: ReadonlyMap<Ingredient, number>, head: QueuePage) {
  const queue: QueuedRequest[] = [...head.requests];
  let { limit } = head;
  let pageLength = head.requests.length;
  for (;;) {
    const plan = planDispatches(stock, queue);
    const cutShort = !plan.exhausted && queue.length >= QUEUE_WINDOW;
    if (plan.exhausted || pageLength < limit || cutShort) return { ...plan, cutShort };
    limit = Math.min(QUEUE_PAGE_MAX, limit * 2);
    const page = await loadPendingRequests(db, { after: queue.at(-1)?.arrival ?? null, limit });
    queue.push(...page);
    pageLength = page.length;
  }
}

/**
 * Runs allocations in the background: one at a time per process, however many wake-ups arrive (a
 * burst of announced requests and purchase rounds folds into one more allocation), plus a periodic
 * sweep. Replicas each run their own; the stock lock makes them take turns. New requests wake only
 * the purchasing replica's, and so do its purchases when they may have missed a request (see
 * `allocateStock`); the others sweep, which also serves requests announced while no replica was the
 * purchaser.
 */
export class Allocator {
  readonly #loop: Loop;
  #lastStartedAt = 0;

  constructor(
    private readonly deps: AllocationDeps & {
      logger: FastifyBaseLogger;
      /** Publishes outbox rows now (the relay): called after the commit that wrote them. */
      publishNow: PublishCommitted;
    },
  ) {
    this.#loop = new Loop({ name: 'allocation', run: () => this.#allocate(), everyMs: SWEEP_INTERVAL_MS, log: deps.logger });
  }

  /** Starts sweeping and allocates at once: requests may have waited while the service was down. */
  start(): void {
    this.#loop.start();
  }

  /** Something changed (requests arrived, stock was bought): allocate soon. */
  wake(): void {
    this.#loop.wake();
  }

  /** Stops sweeping; resolves once the allocation in progress has committed or rolled back. */
  async stop(): Promise<void> {
    await this.#loop.stop();
  }

  async #allocate(): Promise<void> {
    // Requests arrive in a stream of small batches: one allocation every few milliseconds serves
    // them as well as one per batch, for a fraction of the stock-lock turns and queue reads.
    const wait = this.#lastStartedAt + MIN_ALLOCATION_GAP_MS - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    this.#lastStartedAt = Date.now();
    const { dispatched, waiting, outbox } = await allocateStock(this.deps);
    if (dispatched > 0) {
      this.deps.publishNow(outbox);
      this.deps.logger.debug({ dispatched, waiting }, 'ingredients dispatched');
    }
  }
}
