// Applies the numbered SQL files in migrations/ (node-pg-migrate), at start-up and by `npm run migrate`.
import { runner } from 'node-pg-migrate';
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
