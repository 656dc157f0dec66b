// The load's statements, each timed: LOG_LEVEL=debug shows where a slow load spends its time.
import type { PoolClient, QueryResult } from 'pg';
import type { Logger } from 'pino';
import { type Rollup, rebuildStatement } from './rollup-sql.js';

export interface StepOptions {
  /** Receives each step's duration at debug level. */
  logger?: Logger;
}

/** Runs one step of the load, logging how long it took: the first place to look when a load is slow. */
export async function step<T>(options: StepOptions, name: string, action: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await action();
  options.logger?.debug({ step: name, ms: Math.round(performance.now() - started) }, 'load step');
  return result;
}

export type Statement = (name: string, sql: string, params?: unknown[]) => Promise<QueryResult>;

/** Runs the load's statements on its client, timing each one. */
export function statements(client: PoolClient, options: StepOptions): Statement {
  return (name, sql, params) => step(options, name, () => client.query(sql, params));
}

/** Empties a rollup and fills it again from all the facts. */
export async function rebuildRollup(exec: Statement, rollup: Rollup): Promise<void> {
  await exec(`empty ${rollup.table}`, `DELETE FROM ${rollup.table}`);
  const [sql, params] = rebuildStatement(rollup);
  await exec(`rebuild ${rollup.table}`, sql, params);
}
