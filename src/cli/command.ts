// What every command-line entry point shares: configuration, a logger, an open database, and an exit code.
import type { Logger } from 'pino';
import { type Config, ConfigError, readConfig } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { EmbeddedPostgresError } from '../db/embedded-postgres.js';
import { createLogger } from '../logger.js';

export interface CommandContext {
  config: Config;
  logger: Logger;
  db: Database;
}

/** Runs `main` with an open, migrated database; prints an error (no stack for expected ones) and sets the exit code. */
export async function runCommand(
  main: (context: CommandContext) => Promise<number | undefined>,
  options: { logToFile?: boolean } = {},
): Promise<void> {
  let db: Database | undefined;
  try {
    const config = readConfig();
    // Commands log errors only (their own output is for people), unless LOG_LEVEL asks for more; a command
    // that is an operation (a refresh) logs like the server does, to stdout and to the rotated file.
    const { logger } = options.logToFile
      ? createLogger(config.log.level, { dir: config.log.dir })
      : createLogger(process.env.LOG_LEVEL ? config.log.level : 'error');
    db = await openDatabase(config, logger);
    process.exitCode = (await main({ config, logger, db })) ?? 0;
  } catch (error) {
    console.error(`error: ${(error as Error).message}`);
    process.exitCode = 1;
  } finally {
    await db?.close();
  }
}

/** For the long-running commands: a start-up failure the user can fix is one line; anything else keeps its stack. */
export function reportStartupFailure(error: unknown): void {
  const fixable = error instanceof ConfigError || error instanceof EmbeddedPostgresError;
  console.error(fixable ? `error: ${(error as Error).message}` : error);
  process.exitCode = 1;
}
