import type { LiveEvent, LiveStreamName, OrderSummaryItem } from '@free-lunch/contracts';
import type { DashboardApi, PlaceOutcome } from '../api.js';
import { Restaurant } from '../model/restaurant.js';
import { LiveConnection, type ConnectionState } from './live-connection.js';
import { buildView, HISTORY_PAGE_SIZE, type DashboardView, type RecipesState, type SnapshotState } from './view.js';

/** Orders in preparation read when the page first connects; beyond this they appear as their events come. */
const MAX_SNAPSHOT_ORDERS = 20_000;
const SNAPSHOT_PURCHASES = 50;
/** The delivered orders read with the snapshot; their ids also guard against counting a delivery twice. */
const SNAPSHOT_DELIVERED = 100;
const SNAPSHOT_RETRY_MS = 2_000;

/**
 * The dashboard's state outside React: one {@link LiveConnection}, one {@link Restaurant} model,
 * and a view rebuilt at most once per animation frame however many frames the socket delivers,
 * so a burst of thousands of orders costs a handful of renders a second. React reads it with
 * `useSyncExternalStore`.
 */
export class LiveStore {
  private restaurant = new Restaurant();
  private readonly connection: LiveConnection;
  private connectionState: ConnectionState = { kind: 'connecting' };
  private snapshot: SnapshotState = { kind: 'waiting' };
  private recipes: RecipesState = { kind: 'loading' };
  /** Events received while the first snapshot loads, applied on top of it. */
  private held: LiveEvent[] = [];
  private view: DashboardView;
  private readonly listeners = new Set<() => void>();
  private frame: number | null = null;
  private ticker: ReturnType<typeof setInterval> | null = null;
  private snapshotRetry: ReturnType<typeof setTimeout> | null = null;
  private stopped = false;

  constructor(
    private readonly api: DashboardApi,
    private readonly token: string,
    wsUrl: string,
  ) {
    this.view = this.build();
    this.connection = new LiveConnection(wsUrl, token, {
      resumeFrom: () => (this.restaurant.canResume() ? { ...this.restaurant.positions } : undefined),
      onReady: (positions) => this.ready(positions),
      onEvents: (events) => this.receive(events),
      onResumeRefused: () => this.startOver(),
      onState: (state) => {
        this.connectionState = state;
        this.render();
      },
    });
  }

  start(): void {
    this.connection.start();
    // Fire and forget: loadRecipes catches its own failures and shows them.
    void this.loadRecipes();
    // Once a second: ages move on and the backlog chart gets its next point.
    this.ticker = setInterval(() => {
      this.restaurant.sampleBacklog(Math.floor(Date.now() / 1000));
      this.render();
    }, 1_000);
  }

  stop(): void {
    this.stopped = true;
    this.connection.stop();
    if (this.ticker) clearInterval(this.ticker);
    if (this.snapshotRetry) clearTimeout(this.snapshotRetry);
    if (this.frame !== null) cancelAnimationFrame(this.frame);
    this.listeners.clear();
  }

  readonly subscribe = (listener: () => void): (() => void) => {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  };

  readonly getView = (): DashboardView => this.view;

  readonly reconnectNow = (): void => this.connection.reconnectNow();

  get maxOrderQuantity(): number {
    return this.api.maxOrderQuantity;
  }

  /** Places `quantity` orders; the answer's orders join the preparation board straight away. */
  async place(quantity: number): Promise<PlaceOutcome> {
    const outcome = await this.api.placeOrders(this.token, quantity);
    if (outcome.ok) {
      this.restaurant.notePlaced(outcome.orders);
      this.render();
    }
    return outcome;
  }

  /** A page of delivered orders, for browsing history beyond the live first page. */
  historyPage(cursor: string | null) {
    return this.api.ordersPage({ status: 'delivered', limit: HISTORY_PAGE_SIZE, cursor });
  }

  private ready(positions: Record<LiveStreamName, string>): void {
    // On a reconnect the model already has positions and the gateway replays from them: no new
    // snapshot is needed, and taking one would count what the replay brings twice.
    if (this.snapshot.kind !== 'waiting') return;
    this.restaurant.startFrom(positions);
    // Fire and forget: loadSnapshot catches its own failures and retries.
    void this.loadSnapshot();
  }

  /**
   * The gateway will not replay what the page missed: drop the model, so the next connection asks
   * for no position, and the ready that answers it reads the restaurant afresh, as a page load does.
   */
  private startOver(): void {
    this.restaurant = new Restaurant();
    this.held = [];
    this.snapshot = { kind: 'waiting' };
    if (this.snapshotRetry) clearTimeout(this.snapshotRetry);
    this.snapshotRetry = null;
    this.render();
  }

  private receive(events: LiveEvent[]): void {
    const fresh = this.restaurant.acceptNew(events);
    if (fresh.length === 0) return;
    if (this.snapshot.kind === 'loaded') this.restaurant.apply(fresh);
    else this.held.push(...fresh);
    this.render();
  }

  /**
   * The state the live events are applied to, read right after the gateway said where the streams
   * are. The summary is read first and the delivered page after it, so every order counted as
   * delivered by the summary is among the ids that guard against counting its event again.
   */
  private async loadSnapshot(): Promise<void> {
    this.snapshot = { kind: 'loading' };
    this.render();
    // A snapshot still loading when the page started over belongs to the model it dropped.
    const restaurant = this.restaurant;
    try {
      const counts = await this.api.summary();
      const [queued, awaiting, cooking, delivered, stock, purchases] = await Promise.all([
        this.api.allOrders('queued', MAX_SNAPSHOT_ORDERS),
        this.api.allOrders('awaiting_ingredients', MAX_SNAPSHOT_ORDERS),
        this.api.allOrders('cooking', MAX_SNAPSHOT_ORDERS),
        this.api.ordersPage({ status: 'delivered', limit: SNAPSHOT_DELIVERED }),
        this.api.stock(),
        this.api.purchases(SNAPSHOT_PURCHASES),
      ]);
      if (this.stopped || this.restaurant !== restaurant) return;
      const preparing: OrderSummaryItem[] = [...queued, ...awaiting, ...cooking];
      this.restaurant.loadSnapshot({
        counts,
        preparing,
        delivered: delivered.items,
        stock: stock.stock,
        purchases: purchases.items,
      });
      this.restaurant.apply(this.held);
      this.held = [];
      this.snapshot = { kind: 'loaded' };
      this.restaurant.sampleBacklog(Math.floor(Date.now() / 1000));
    } catch (error) {
      if (this.stopped || this.restaurant !== restaurant) return;
      this.snapshot = { kind: 'failed', message: error instanceof Error ? error.message : String(error) };
      this.snapshotRetry = setTimeout(() => void this.loadSnapshot(), SNAPSHOT_RETRY_MS);
    }
    this.render();
  }

  private async loadRecipes(): Promise<void> {
    try {
      const { recipes } = await this.api.recipes();
      this.recipes = { kind: 'loaded', recipes };
    } catch {
      this.recipes = { kind: 'failed' };
      setTimeout(() => !this.stopped && void this.loadRecipes(), 5_000);
    }
    this.render();
  }

  /** Rebuilds the view on the next animation frame (once, however many changes came before it). */
  private render(): void {
    if (this.stopped || this.frame !== null) return;
    const flush = () => {
      this.frame = null;
      this.view = this.build();
      for (const listener of this.listeners) listener();
    };
    // Hidden tabs get no animation frames: still keep the view current, at the ticker's pace.
    if (document.hidden) {
      this.frame = -1;
      setTimeout(flush, 250);
    } else {
      this.frame = requestAnimationFrame(flush);
    }
  }

  private build(): DashboardView {
    return buildView(
      this.restaurant,
      { connection: this.connectionState, snapshot: this.snapshot, recipes: this.recipes },
      Date.now(),
    );
  }
}
