import pg from 'pg';

/**
 * Reads the run's database as the admin: every service's schema, to check them against each other.
 * Kept apart from the services' pools (and their proxy), so it still answers during a proxied outage.
 */
export class Books {
  readonly #pool: pg.Pool;

  constructor(adminDatabaseUrl: string) {
    this.#pool = new pg.Pool({ connectionString: adminDatabaseUrl, max: 2 });
    // A session cut or a stopped server ends the pool's idle connections; the next query opens new ones.
    this.#pool.on('error', () => undefined);
  }

  /** Orders in the database, and how many of them are delivered. */
  async progress(): Promise<{ orders: number; delivered: number }> {
    const { rows } = await this.#pool.query<{ orders: number; delivered: number }>(
      `SELECT count(*)::int AS orders, count(*) FILTER (WHERE status = 'delivered')::int AS delivered FROM orders.orders`,
    );
    return rows[0]!;
  }

  /** Every order's id, its status, and when it was delivered (its last update, once delivered; null before). */
  async deliveries(): Promise<Map<string, { status: string; deliveredAtMs: number | null }>> {
    const { rows } = await this.#pool.query<{ id: string; status: string; delivered: string | null }>(
      `SELECT id, status, CASE WHEN status = 'delivered' THEN (extract(epoch FROM updated_at) * 1000)::float8 END AS delivered
         FROM orders.orders`,
    );
    return new Map(
      rows.map((row) => [row.id, { status: row.status, deliveredAtMs: row.delivered === null ? null : Number(row.delivered) }]),
    );
  }

  /** Units the warehouse's ledger says it bought: what the books hold of the market's sales. */
  async unitsBought(): Promise<number> {
    const { rows } = await this.#pool.query<{ units: number }>(
      `SELECT coalesce(sum(delta), 0)::int AS units FROM inventory.stock_ledger WHERE reason = 'purchase'`,
    );
    return rows[0]!.units;
  }

  /**
   * Orders handled twice, by the three services' own records: two recipes (the kitchen's ticket, the
   * warehouse's request and the order disagree), or a dispatch that is not exactly its request's
   * ingredients once (a second dispatch, a missing one, a wrong quantity). The schemas' keys forbid a
   * second ticket, request or timeline step for an order outright; these are what they cannot forbid.
   */
  async duplicates(): Promise<{ twoRecipes: number; wrongDispatches: number; total: number }> {
    const { rows } = await this.#pool.query<{ two_recipes: number; wrong_dispatches: number; total: number }>(
      `WITH two_recipes AS (
         SELECT t.order_id
           FROM kitchen.tickets t
           LEFT JOIN orders.orders o ON o.id = t.order_id
           LEFT JOIN inventory.requests q ON q.order_id = t.order_id
          WHERE (o.recipe IS NOT NULL AND o.recipe <> t.recipe) OR q.recipe <> t.recipe
       ),
       requested AS (
         SELECT q.order_id, need.ingredient, sum(need.quantity) AS units
           FROM inventory.requests q
          CROSS JOIN LATERAL jsonb_to_recordset(q.ingredients) AS need (ingredient text, quantity int)
          WHERE q.status = 'dispatched'
          GROUP BY q.order_id, need.ingredient
       ),
       dispatched AS (
         SELECT order_id, ingredient, -sum(delta) AS units
           FROM inventory.stock_ledger
          WHERE reason = 'dispatch'
          GROUP BY order_id, ingredient
       ),
       wrong_dispatches AS (
         SELECT coalesce(r.order_id, d.order_id) AS order_id
           FROM requested r
           FULL JOIN dispatched d ON d.order_id = r.order_id AND d.ingredient = r.ingredient
          WHERE r.units IS DISTINCT FROM d.units
       )
       SELECT (SELECT count(DISTINCT order_id) FROM two_recipes)::int AS two_recipes,
              (SELECT count(DISTINCT order_id) FROM wrong_dispatches)::int AS wrong_dispatches,
              (SELECT count(*) FROM (SELECT order_id FROM two_recipes UNION SELECT order_id FROM wrong_dispatches) AS both_kinds)::int AS total`,
    );
    const row = rows[0]!;
    return { twoRecipes: row.two_recipes, wrongDispatches: row.wrong_dispatches, total: row.total };
  }

  async close(): Promise<void> {
    await this.#pool.end();
  }
}
