// The application's connections to PostgreSQL: how a pool is made (every pool of the process, so that the
// type parsers below hold for all), what says the database is away rather than the query wrong, and a
// client taken out for a transaction or a session lock.
import pg from 'pg';

// numeric and bigint arrive as strings by default; aggregates are cast in SQL where a number is wanted.
// int8 counts (count(*)) fit in a double for any realistic data size.
pg.types.setTypeParser(pg.types.builtins.INT8, (value) => Number(value));
// Dates stay 'YYYY-MM-DD' strings: a sale's day has no time zone.
pg.types.setTypeParser(pg.types.builtins.DATE, (value) => value);

/** A pool whose sessions notice a vanished client within a second, so a killed loader's locks are freed. */
export function createPool(url: string, max = 10, extra: pg.PoolConfig = {}): pg.Pool {
  return new pg.Pool({
    ...extra,
    connectionString: url,
    max,
    options: '-c client_connection_check_interval=1000',
    application_name: 'sales-analytics',
  });
}

/** PostgreSQL error classes meaning the database is away or refusing sessions, not that the query is wrong. */
const UNAVAILABLE_SQLSTATES = /^(08|57P0[123]|53300)/;
const UNAVAILABLE_NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'ENOTFOUND', 'EHOSTUNREACH']);

/** The database went away (restarted, the session ended) or cannot be reached: a 503 the client may retry. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_NODE_CODES.has(code))) return true;
  // node-postgres's own words for a session that ended, a connection not made within connectionTimeoutMillis,
  // or a query not answered within its query_timeout.
  return (
    typeof message === 'string' &&
    /^(Connection terminated|timeout exceeded when trying to connect|Query read timeout)/.test(message)
  );
}

/** A client taken out of the pool for a transaction or a session lock; release() gives it back or destroys it. */
export interface CheckedOut {
  client: pg.PoolClient;
  /** Destroys the session when `error` is given or its connection failed; else returns it to the pool. */
  release(error?: Error): void;
}

/**
 * Takes a client out of the pool. Its session can end while it is out (terminated, the server restarted): the
 * statement in flight fails, then the client reports the closed connection as an 'error' event, which nothing
 * else hears while the client is out of the pool and which would then end the process. Heard here, and passed
 * to `onBroken`.
 */
export async function checkOut(pool: pg.Pool, onBroken?: (error: Error) => void): Promise<CheckedOut> {
  const client = await pool.connect();
  let broken: Error | undefined;
  const onError = (error: Error) => {
    broken ??= error;
    onBroken?.(error);
  };
  client.on('error', onError);
  return {
    client,
    release(error) {
      client.removeListener('error', onError);
      client.release(error ?? broken);
    },
  };
}
