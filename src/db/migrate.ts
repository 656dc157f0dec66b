// Applies the numbered SQL files in migrations/ (node-pg-migrate), at start-up and by `npm run migrate`.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { runner } from 'node-pg-migrate';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { migrationsDir } from '../paths.js';

/** Brings the database to the newest schema; concurrent callers wait for each other. Returns the names applied. */
export async function migrate(databaseUrl: string, logger: Logger): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    direction: 'up',
    migrationsTable: 'schema_migrations',
    singleTransaction: true,
    advisoryLockMode: 'wait',
    checkOrder: true,
    log: () => {},
  });
  const names = applied.map((migration) => migration.name);
  if (names.length > 0) logger.info({ migrations: names }, 'database migrated');
  return names;
}

/** The migrations this build ships, by name (file name without extension), oldest first. */
export const SHIPPED_MIGRATIONS = readdirSync(migrationsDir)
  .filter((file) => file.endsWith('.sql'))
  .map((file) => path.basename(file, '.sql'))
  .sort();

/** Shipped migrations the database has not applied (for readiness): none once `migrate` has run. */
export async function pendingMigrations(pool: Pool): Promise<string[]> {
  const { rows } = await pool.query<{ name: string }>('SELECT name FROM schema_migrations');
  const applied = new Set(rows.map((row) => row.name));
  return SHIPPED_MIGRATIONS.filter((name) => !applied.has(name));
}
