// What every command-line entry point shares: configuration, a logger, an open database, an exit code, and
// what SIGINT and SIGTERM mean.
import type { Logger } from 'pino';
import { type Config, ConfigError, readConfig } from '../config.js';
import { type Database, openDatabase } from '../db/database.js';
import { EmbeddedPostgresError } from '../db/embedded-postgres.js';
import { createLogger } from '../logger.js';

/**
 * A repeat of the first signal within this long is the same request: Ctrl-C signals the terminal's whole
 * process group, and npm forwards the signal to its script as well, so the process sees it twice, milliseconds apart.
 */
const SAME_REQUEST_MS = 500;

export interface StopSignals {
  /** Aborted by the first SIGINT or SIGTERM (reason: `stopped by SIGTERM`): finish or cancel, then close everything. */
  graceful: AbortSignal;
  /** Aborted by a second one: stop at once (the database's fast shutdown rolls back whatever is open). */
  immediate: AbortSignal;
}

/** Takes over SIGINT and SIGTERM for the life of the process: the first asks for a graceful stop, a second for an immediate one. */
export function listenForStop(): StopSignals {
  const graceful = new AbortController();
  const immediate = new AbortController();
  let firstAt = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    if (!graceful.signal.aborted) {
      firstAt = Date.now();
      graceful.abort(`stopped by ${signal}`);
    } else if (Date.now() - firstAt >= SAME_REQUEST_MS) immediate.abort(`stopped at once by a second ${signal}`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return { graceful: graceful.signal, immediate: immediate.signal };
}

export interface CommandContext {
  config: Config;
  logger: Logger;
  db: Database;
  /** Aborted by SIGINT or SIGTERM: a command doing long work passes it on (a load rolls back, its run is marked failed). */
  stopSignal: AbortSignal;
}

/**
 * Runs `main` with an open, migrated database; prints an error (no stack for expected ones) and sets the exit
 * code. A first signal aborts `stopSignal` and the database is closed once `main` returns; a second stops the
 * embedded database at once and exits.
 */
export async function runCommand(
  main: (context: CommandContext) => Promise<number | undefined>,
  options: { logToFile?: boolean } = {},
): Promise<void> {
  const stop = listenForStop();
  let db: Database | undefined;
  stop.immediate.addEventListener('abort', () => {
    console.error(`error: ${stop.immediate.reason}`);
    (db?.stopNow() ?? Promise.resolve()).finally(() => process.exit(1));
  });
  try {
    const config = readConfig();
    // Commands log errors only (their own output is for people), unless LOG_LEVEL asks for more; a command
    // that is an operation (a refresh) logs like the server does, to stdout and to the rotated file.
    const { logger } = options.logToFile
      ? createLogger(config.log.level, { dir: config.log.dir })
      : createLogger(process.env.LOG_LEVEL ? config.log.level : 'error');
    db = await openDatabase(config, logger);
    stop.graceful.throwIfAborted();
    process.exitCode = (await main({ config, logger, db, stopSignal: stop.graceful })) ?? 0;
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
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
