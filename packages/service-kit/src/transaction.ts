import type pg from 'pg';

/**
 * Runs `work` inside one SQL transaction on one pooled connection: committed if it resolves, rolled
 * back if it throws. A connection whose rollback fails is destroyed rather than handed back to
 * the pool, where it would poison the next caller.
 *
 * `opening`, if given, is the transaction's first statements, without parameters (a simple query,
 * `;`-separated): they go in the same round trip as the BEGIN, and `work` gets their results in order.
 */
export async function inTransaction<T>(
  pool: pg.Pool,
  work: (tx: pg.PoolClient, opened: pg.QueryResult[]) => Promise<T>,
  { opening }: { opening?: string } = {},
): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    let opened: pg.QueryResult[] = [];
    if (opening) {
      // A simple query of several statements answers one result per statement, the BEGIN's first.
      opened = ((await client.query(`BEGIN; ${opening}`)) as unknown as pg.QueryResult[]).slice(1);
    } else {
      await client.query('BEGIN');
    }
    const result = await work(client, opened);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch((rollbackError: Error) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    client.release(broken);
  }
}
