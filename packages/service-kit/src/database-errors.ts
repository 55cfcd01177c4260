import pg from 'pg';

/**
 * What a failed transaction's error says about trying it again:
 * - `retry`: PostgreSQL rolled it back for a reason that may pass (a serialization failure or
 *   deadlock, a lock timeout, a cancelled statement, short resources, read-only during a failover,
 *   a server that cannot take connections yet). Nothing of it was committed.
 * - `commit-unknown`: the connection was lost (class 08, the server shut down or was told to end
 *   the session, a socket error, pg's own word that the connection ended). It may pass, but if the
 *   COMMIT was already sent its answer is what was lost: the transaction may have committed, so
 *   only an idempotent transaction may simply run again.
 * - `refused`: anything else is about the statement, its data or the code (a constraint, a type, a
 *   permission, a bug), and would fail the same way again: give it up.
 */
export type DatabaseErrorKind = 'retry' | 'commit-unknown' | 'refused';

/** SQLSTATE classes whose errors mean the transaction was rolled back and may succeed if run again. */
const RETRY_CLASSES = new Set([
  '40', // transaction rollback: serialization_failure 40001, deadlock_detected 40P01
  '53', // insufficient resources: too many connections, out of memory, disk full
  '57', // operator intervention: query_canceled 57014, cannot_connect_now 57P03 (except those below)
]);
/** SQLSTATEs outside those classes that also pass: lock_not_available, read_only_sql_transaction (after a failover). */
const RETRY_SQLSTATES = new Set(['55P03', '25006']);
/**
 * SQLSTATEs that end the session: admin_shutdown, crash_shutdown, database_dropped,
 * idle_session_timeout. Like a lost connection, they may have cut off a COMMIT's answer.
 */
const SESSION_ENDED_SQLSTATES = new Set(['57P01', '57P02', '57P04', '57P05']);
/** pg's errors for a connection that ended, broke, or never came (these carry no SQLSTATE). */
const LOST_CONNECTION = /connection (terminated|ended|timeout)|not queryable/i;
const NO_CONNECTION = /timeout exceeded when trying to connect/i;

/** Classifies the error a transaction failed with (see {@link DatabaseErrorKind}). */
export function classifyDatabaseError(error: unknown): DatabaseErrorKind {
  if (error instanceof pg.DatabaseError) {
    const code = error.code ?? '';
    if (code.startsWith('08') || SESSION_ENDED_SQLSTATES.has(code)) return 'commit-unknown';
    return RETRY_CLASSES.has(code.slice(0, 2)) || RETRY_SQLSTATES.has(code) ? 'retry' : 'refused';
  }
  if (!(error instanceof Error)) return 'refused';
  // A system error from the socket (EPIPE, ECONNRESET, ECONNREFUSED…).
  if ('syscall' in error || 'errno' in error) return 'commit-unknown';
  if (NO_CONNECTION.test(error.message)) return 'retry';
  return LOST_CONNECTION.test(error.message) ? 'commit-unknown' : 'refused';
}

/**
 * Whether a failed transaction may succeed if run again (`retry` or `commit-unknown`): the caller
 * retrying on this must make the transaction idempotent, since a lost COMMIT answer may hide a commit.
 */
export function isTransientDatabaseError(error: unknown): boolean {
  return classifyDatabaseError(error) !== 'refused';
}
