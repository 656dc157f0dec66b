// One refresh at a time across every process sharing the database. A refresh holds a session-level advisory
// lock on a connection of its own from before its run is recorded until the run is finished; PostgreSQL
// frees the lock when that session ends, so a killed process never leaves the lock behind. Whoever takes
// the lock knows no refresh is running, so any run still marked queued or running was interrupted.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { type CheckedOut, checkOut } from '../db/pool.js';
import { failInterruptedRuns, findActiveRun, insertRun, type NewRun, type RefreshRun } from './runs.js';

const REFRESH_LOCK_KEY = 7304112002;

export interface RefreshClaim {
  run: RefreshRun;
  /** Frees the lock; call once the run is recorded as finished. */
  release(): Promise<void>;
}

export type ClaimOutcome = { claim: RefreshClaim } | { busy: RefreshRun | undefined };

async function tryLock(pool: Pool, logger: Logger): Promise<CheckedOut | undefined> {
  // The session can end while it holds the lock (the server restarted, the backend terminated), which frees it.
  const session = await checkOut(pool, (error) => logger.warn({ err: error }, 'the session holding the refresh lock ended'));
  try {
    const { rows } = await session.client.query('SELECT pg_try_advisory_lock($1) AS locked', [REFRESH_LOCK_KEY]);
    if (rows[0].locked) return session;
    session.release();
    return undefined;
  } catch (error) {
    session.release(error as Error);
    throw error;
  }
}

async function unlock(session: CheckedOut): Promise<void> {
  try {
    await session.client.query('SELECT pg_advisory_unlock($1)', [REFRESH_LOCK_KEY]);
    session.release();
  } catch (error) {
    // A broken session has lost its lock anyway; destroy it rather than return it to the pool.
    session.release(error as Error);
  }
}

async function failInterrupted(client: PoolClient, logger: Logger): Promise<void> {
  const ids = await failInterruptedRuns(client);
  if (ids.length > 0) logger.warn({ runIds: ids }, 'marked runs interrupted by a stopped process as failed');
}

/**
 * A refresh records its outcome, then frees the lock once its worker has ended: a few milliseconds in which
 * its run already reads finished. A claim in that moment waits (at most this long) instead of answering busy
 * to a client that has just seen the run finish.
 */
const SETTLE_MS = 2000;
const SETTLE_POLL_MS = 20;

/** Takes the refresh lock and records the run, or reports the run that holds it. */
export async function claimRefresh(
  pool: Pool,
  logger: Logger,
  run: NewRun & { status: 'queued' | 'running' },
): Promise<ClaimOutcome> {
  const settled = Date.now() + SETTLE_MS;
  let session = await tryLock(pool, logger);
  while (!session) {
    const active = await findActiveRun(pool);
    if (active || Date.now() >= settled) return { busy: active };
    await sleep(SETTLE_POLL_MS);
    session = await tryLock(pool, logger);
  }
  try {
    await failInterrupted(session.client, logger);
    const claimed = await insertRun(session.client, run);
    return { claim: { run: claimed, release: () => unlock(session) } };
  } catch (error) {
    await unlock(session);
    throw error;
  }
}

/** The run holding the refresh lock right now, if any (a run row alone may be a dead process's). */
export async function activeRefresh(pool: Pool): Promise<RefreshRun | undefined> {
  // A bigint advisory key shows in pg_locks split into its high (classid) and low (objid) 32 bits.
  const { rows } = await pool.query(
    `SELECT EXISTS (SELECT FROM pg_locks
                    WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid::bigint = $1 AND objid::bigint = $2
                      AND database = (SELECT oid FROM pg_database WHERE datname = current_database())) AS held`,
    [Math.floor(REFRESH_LOCK_KEY / 2 ** 32), REFRESH_LOCK_KEY % 2 ** 32],
  );
  return rows[0].held ? findActiveRun(pool) : undefined;
}

/** At start-up: runs that a killed process left queued or running are recorded as failed (interrupted). */
export async function recoverInterruptedRuns(pool: Pool, logger: Logger): Promise<void> {
  const session = await tryLock(pool, logger);
  if (!session) return; // another process is refreshing right now; its runs are not interrupted
  try {
    await failInterrupted(session.client, logger);
  } finally {
    await unlock(session);
  }
}
