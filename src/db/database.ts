// Opens the application's database: the configured DATABASE_URL, or the embedded server; migrated, pooled.
import type pg from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { startEmbeddedPostgres } from './embedded-postgres.js';
import { migrate } from './migrate.js';
import { createPool } from './pool.js';
import { ReadRouter } from './read-pool.js';

export interface Database {
  pool: pg.Pool;
  /** Reads of analytics answers: DATABASE_READ_URLS's replicas in turn, `pool` the last resort. */
  reads: ReadRouter;
  url: string;
  close(): Promise<void>;
  /** Stops the embedded server at once, without waiting for the pool (its fast shutdown rolls back open transactions). */
  stopNow(): Promise<void>;
}

export async function openDatabase(config: Config, logger: Logger, options: { migrate?: boolean } = {}): Promise<Database> {
  const embedded = config.databaseUrl
    ? undefined
    : await startEmbeddedPostgres({ ...config.embeddedPostgres, logger: logger.child({ component: 'postgres' }) });
  const url = config.databaseUrl ?? embedded!.url;
  try {
    if (options.migrate !== false) await migrate(url, logger);
  } catch (error) {
    await embedded?.stop();
    throw error;
  }
  const pool = createPool(url);
  pool.on('error', (error) => logger.error({ err: error }, 'idle database connection failed'));
  const reads = new ReadRouter({ pool, url }, config.readReplicaUrls, logger);
  return {
    pool,
    reads,
    url,
    async close() {
      await reads.close();
      await pool.end();
      await embedded?.stop();
    },
    async stopNow() {
      await embedded?.stop();
    },
  };
}
