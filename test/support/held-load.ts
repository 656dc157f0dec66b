// Holding a load at a chosen step: another session locks a table the step writes (SHARE mode: reads go on,
// writes wait), so the load's statement waits there for as long as the test needs, however fast the machine.
// The same way, a lock in ACCESS EXCLUSIVE mode holds the analyses that read a table.
// The run's step, recorded in refresh_runs as it changes, and pg_stat_activity's wait event tell when it is there.
import pg from 'pg';
import { until } from './service-process.js';

export interface TableLock {
  release(): Promise<void>;
}

/** SHARE holds a step that writes `table`; ACCESS EXCLUSIVE holds the readers too. */
export async function lockTable(url: string, table: string, mode: 'SHARE' | 'ACCESS EXCLUSIVE' = 'SHARE'): Promise<TableLock> {
  const client = new pg.Client(url);
  // A test that stops the server ends this session too; that is expected.
  client.on('error', () => {});
  await client.connect();
  await client.query(`BEGIN; LOCK TABLE ${table} IN ${mode} MODE`);
  let released: Promise<void> | undefined;
  return {
    release() {
      released ??= client
        .query('COMMIT')
        .catch(() => {})
        .then(() => client.end());
      return released;
    },
  };
}

export interface HeldLoad {
  runId: number;
  phase: string;
  /** The load's session, waiting for the lock. */
  pid: number;
  /** Its transaction id: set once the transaction has written anything. */
  xid: string | null;
}

/** Waits until a running refresh is on `step` and a session of its database waits for a lock. */
export async function heldAt(pool: pg.Pool, step: string): Promise<HeldLoad> {
  return until(`a refresh waiting at '${step}'`, async () => {
    const { rows } = await pool.query(
      `SELECT r.id::integer AS "runId", r.phase, a.pid, a.backend_xid::text AS xid
       FROM refresh_runs r, pg_stat_activity a
       WHERE r.status = 'running' AND r.step = $1 AND a.datname = current_database() AND a.wait_event_type = 'Lock'
       ORDER BY r.id DESC LIMIT 1`,
      [step],
    );
    return rows[0] as HeldLoad | undefined;
  });
}

/**
 * Waits until no session holds an advisory lock on the database: a killed process's sessions have ended
 * (PostgreSQL notices the closed connection within client_connection_check_interval) and freed the refresh lock.
 */
export async function sessionsGone(pool: pg.Pool): Promise<void> {
  await until('the killed sessions to end', async () => {
    const { rows } = await pool.query(
      `SELECT count(*)::integer AS held FROM pg_locks
       WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`,
    );
    return rows[0].held === 0 ? true : undefined;
  });
}

/** Waits until `count` sessions of the database wait for a lock. */
export async function waitingForLocks(pool: pg.Pool, count: number): Promise<void> {
  await until(`${count} sessions waiting for a lock`, async () => {
    const { rows } = await pool.query(
      `SELECT count(*)::integer AS waiting FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'`,
    );
    return rows[0].waiting === count ? true : undefined;
  });
}
