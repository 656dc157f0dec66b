// The load's statements, each timed: LOG_LEVEL=debug shows where a slow load spends its time.
import type { PoolClient, QueryResult } from 'pg';
import type { Logger } from 'pino';

/** Preparing: before the first byte is read; reading: the file streams in; applying: the rest, until the commit. */
export type LoadPhase = 'preparing' | 'reading' | 'applying';

export interface LoadProgress {
  phase: LoadPhase;
  /** The step the load is on (the name its duration is logged under), e.g. 'upsert orders'. */
  step: string | null;
  bytesRead: number;
  bytesTotal: number;
  rowsRead: number;
}

/** What a load is doing now; each change goes to the load's progress callback. */
export class LoadTracker {
  private readonly progress: LoadProgress = { phase: 'preparing', step: null, bytesRead: 0, bytesTotal: 0, rowsRead: 0 };

  constructor(private readonly listener?: (progress: LoadProgress) => void) {}

  update(change: Partial<LoadProgress>): void {
    Object.assign(this.progress, change);
    this.listener?.({ ...this.progress });
  }
}

export interface StepOptions {
  /** Receives each step's duration at debug level. */
  logger?: Logger;
  /** Told each step as it starts. */
  tracker?: LoadTracker;
}

/** Runs one step of the load, logging how long it took and the process's memory after it: the first place to look when a load is slow or large. */
export async function step<T>(options: StepOptions, name: string, action: () => Promise<T>): Promise<T> {
  options.tracker?.update({ step: name });
  const started = performance.now();
  const result = await action();
  options.logger?.debug(
    { step: name, ms: Math.round(performance.now() - started), rssMb: process.memoryUsage.rss() >> 20 },
    'load step',
  );
  return result;
}

export type Statement = (name: string, sql: string, params?: unknown[]) => Promise<QueryResult>;

/** Runs the load's statements on its client, timing each one. */
export function statements(client: PoolClient, options: StepOptions): Statement {
  return (name, sql, params) => step(options, name, () => client.query(sql, params));
}
