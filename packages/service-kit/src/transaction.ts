import type pg from 'pg';

/**
 * Runs `work` inside one SQL transaction on one pooled connection: committed if it resolves, rolled
 * back if it throws. A connection whose rollback fails is destroyed rather than handed back to
 * the pool, where it would poison the next caller.
 */
export async function inTransaction<T>(pool: pg.Pool, work: (tx: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const result = await work(client);
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
