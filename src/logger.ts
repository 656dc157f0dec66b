// The application's pino logger: JSON lines on stdout and, when a log directory is given, in a daily-rotated
// file there too (pino-roll, in pino's transport thread, so writing never blocks a request).
import path from 'node:path';
import pino, { type DestinationStream, type Logger } from 'pino';

export interface AppLogger {
  logger: Logger;
  /** Writes a line already serialised by another pino logger (a worker thread's) to the same destinations. */
  writeLine(line: string): void;
}

const BASE = { service: 'sales-analytics' };

export function createLogger(level: string, options: { dir?: string } = {}): AppLogger {
  const destination: DestinationStream = options.dir
    ? pino.transport({
        targets: [
          { target: 'pino/file', options: { destination: 1 } },
          {
            target: 'pino-roll',
            options: {
              file: path.join(options.dir, 'sales-analytics'),
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
  return { logger, writeLine: (line) => destination.write(line.endsWith('\n') ? line : `${line}\n`) };
}

/** A logger whose lines are handed to `write` (a worker thread posts them to the main thread). */
export function createForwardingLogger(level: string, write: (line: string) => void): Logger {
  return pino({ level, base: BASE }, { write });
}
