// GET /metrics: one registry per app (tests run several in a process) merged with the process's defaults.
// Each scrape first reads what the metrics say of the world outside this process (the run history, the
// database, the snapshot), then renders; scrapes that arrive together share one reading, so that no number
// of scrapers multiplies the work.
import type { Middleware } from 'koa';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { Registry } from 'prom-client';
import { type ReadRouter, sharedReads } from '../db/read-pool.js';
import type { AnswerCache } from '../http/answers.js';
import type { RefreshScheduler } from '../refresh/scheduler.js';
import type { SnapshotStore } from '../snapshot/store.js';
import { analyticsMetrics } from './analytics.js';
import { databaseMetrics } from './database.js';
import { httpMetrics } from './http.js';
import { processRegistry } from './process.js';
import { refreshMetrics } from './refresh.js';

export interface MetricSources {
  pool: Pool;
  reads: ReadRouter;
  snapshots: SnapshotStore;
  scheduler: RefreshScheduler;
  cache?: AnswerCache;
  logger: Logger;
}

export interface Metrics {
  /** Times every request; mounted before anything that may answer. */
  middleware: Middleware;
  contentType: string;
  /** The exposition of a scrape. */
  scrape(): Promise<string>;
}

export function createMetrics(sources: MetricSources): Metrics {
  const registry = new Registry();
  const middleware = httpMetrics(registry);
  // The database's first: it reads the pools before the others' queries wait for them.
  const updates = [databaseMetrics(registry, sources), refreshMetrics(registry, sources), analyticsMetrics(registry, sources)];
  const merged = Registry.merge([processRegistry(), registry]);
  const log = sources.logger.child({ component: 'metrics' });
  const scrape = sharedReads(async () => {
    // What cannot be read now (the database away, say) keeps its last value; postgres_up and ready say why.
    const failed = (await Promise.allSettled(updates.map((update) => update()))).filter(
      (outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected',
    );
    for (const { reason } of failed) log.warn({ err: reason }, 'a metric could not be read for this scrape');
    return merged.metrics();
  });
  return { middleware, contentType: merged.contentType, scrape };
}
