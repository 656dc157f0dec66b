// The application's pino logger: JSON lines on stdout and, when a log directory is given, in a daily-rotated
// file there too (pino-roll, in pino's transport thread, so writing never blocks a request).
import { chmodSync, existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';

export interface AppLogger {
  logger: Logger;
  /** Lines for stdout alone, never the log file: a secret shown once (the generated refresh token) is not kept. */
  screen: Logger;
  /** Writes a line already serialised by another pino logger (a worker thread's) to the same destinations. */
  writeLine(line: string): void;
}

const BASE = { service: 'sales-analytics' };
const LOG_FILE = 'sales-analytics';
const LOG_FILE_MODE = 0o600;

/** Log files of earlier versions were world-readable (0644); the rotation keeps appending to the newest. */
function restrictLogFiles(dir: string): void {
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name.startsWith(`${LOG_FILE}.`) && name.endsWith('.log')) chmodSync(path.join(dir, name), LOG_FILE_MODE);
  }
}

export function createLogger(level: string, options: { dir?: string } = {}): AppLogger {
  if (options.dir) restrictLogFiles(options.dir);
  const destination: DestinationStream = options.dir
    ? pino.transport({
        targets: [
          { target: 'pino/file', options: { destination: 1 } },
          {
            target: 'pino-roll',
            options: {
              file: path.join(options.dir, LOG_FILE),
              mode: LOG_FILE_MODE,
              extension: '.log',
              frequency: 'daily',
              size: '100m',
              mkdir: true,
              limit: { count: 14 },
            },
          },
        ],
      })
    : pino.destination(1);
  const logger = pino({ level, base: BASE }, destination);
  const screen = options.dir ? pino({ level, base: BASE }, pino.destination(1)) : logger;
  return { logger, screen, writeLine: (line) => destination.write(line.endsWith('\n') ? line : `${line}\n`) };
}

/** A logger whose lines are handed to `write` (a worker thread posts them to the main thread). */
export function createForwardingLogger(level: string, write: (line: string) => void): Logger {
  return pino({ level, base: BASE }, { write });
}
