import net from 'node:net';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { classifyDatabaseError, inTransaction, isTransientDatabaseError } from '../src/index.js';
import { createTestDatabase, type TestDatabase } from '../src/testing.js';

let database: TestDatabase;
const clients: pg.Client[] = [];
let pool: pg.Pool;

beforeAll(async () => {
  database = await createTestDatabase();
  pool = new pg.Pool({ connectionString: database.url, max: 4 });
  await pool.query('CREATE TABLE counter (id int PRIMARY KEY, n int NOT NULL CHECK (n >= 0))');
  await pool.query('INSERT INTO counter VALUES (1, 0)');
});
afterAll(async () => {
  for (const client of clients) await client.end().catch(() => {});
  await pool?.end();
  await database?.drop();
});

async function connect(): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: database.url });
  client.on('error', () => {});
  await client.connect();
  clients.push(client);
  return client;
}

/** The error `work` rejects with. */
async function failure(work: () => Promise<unknown>): Promise<unknown> {
  try {
    await work();
  } catch (error) {
    return error;
  }
  throw new Error('expected the work to fail');
}

describe('classifying the error a transaction failed with', () => {
  it('when the data breaks a constraint or the statement is wrong, then the database refused it and retrying is pointless', async () => {
    const duplicate = await failure(() => pool.query('INSERT INTO counter VALUES (1, 0)'));
    const negative = await failure(() => pool.query('UPDATE counter SET n = -1'));
    const typo = await failure(() => pool.query('SELEC 1'));
    for (const error of [duplicate, negative, typo]) {
      expect(classifyDatabaseError(error)).toBe('refused');
      expect(isTransientDatabaseError(error)).toBe(false);
    }
    expect(classifyDatabaseError(new Error('a bug in the code'))).toBe('refused');
    expect(classifyDatabaseError('not even an error')).toBe('refused');
  });

  it('when two serializable transactions conflict, then the loser is told to retry', async () => {
    const [first, second] = [await connect(), await connect()];
    await first.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    await second.query('BEGIN ISOLATION LEVEL SERIALIZABLE');
    await first.query('SELECT n FROM counter WHERE id = 1');
    await second.query('SELECT n FROM counter WHERE id = 1');
    await first.query('UPDATE counter SET n = n + 1 WHERE id = 1');
    // Its failure is caught from the start: it may come before the COMMIT's answer does.
    const pending = failure(() => second.query('UPDATE counter SET n = n + 1 WHERE id = 1'));
    await first.query('COMMIT');
    const error = await pending;
    await second.query('ROLLBACK');
    expect((error as pg.DatabaseError).code).toBe('40001');
    expect(classifyDatabaseError(error)).toBe('retry');
  });

  it('when a row lock is not granted in time, then the transaction is told to retry', async () => {
    const holder = await connect();
    await holder.query('BEGIN');
    await holder.query('SELECT * FROM counter WHERE id = 1 FOR UPDATE');
    const error = await failure(() =>
      inTransaction(pool, async (tx) => {
        await tx.query(`SET LOCAL lock_timeout = '50ms'`);
        await tx.query('SELECT * FROM counter WHERE id = 1 FOR UPDATE');
      }),
    );
    await holder.query('ROLLBACK');
    expect((error as pg.DatabaseError).code).toBe('55P03');
    expect(classifyDatabaseError(error)).toBe('retry');
  });

  it('when the server ends the session, then whether a COMMIT went through is unknown, and so it is afterwards', async () => {
    const victim = await connect();
    const { rows } = await victim.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    await pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
    const terminated = await failure(() => victim.query('SELECT 1'));
    const afterwards = await failure(() => victim.query('SELECT 1'));
    for (const error of [terminated, afterwards]) {
      expect(classifyDatabaseError(error)).toBe('commit-unknown');
      expect(isTransientDatabaseError(error)).toBe(true);
    }
  });

  it('when the socket fails, then the outcome is unknown; when no connection came in time, then retry', async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const { port } = closed.address() as net.AddressInfo;
    await new Promise((resolve) => closed.close(resolve));
    const refused = await failure(() => new pg.Client({ host: '127.0.0.1', port }).connect());
    expect(classifyDatabaseError(refused)).toBe('commit-unknown');

    const busy = new pg.Pool({ connectionString: database.url, max: 1, connectionTimeoutMillis: 1_000 });
    const held = await busy.connect();
    const timedOut = await failure(() => busy.connect());
    held.release();
    await busy.end();
    expect(classifyDatabaseError(timedOut)).toBe('retry');
  });
});
