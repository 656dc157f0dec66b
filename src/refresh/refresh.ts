// One refresh: record a run, load the file under the load lock, record how it ended. Every caller (CLI,
// scheduler, API) goes through here, so every load is in the run history, successful or not.
import fs from 'node:fs/promises';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { InputFormatError, LoadBusyError, type LoadMode, type LoadProgress, type LoadResult, loadSales } from '../load/index.js';
import { finishRun, type RefreshRun, type RunTrigger, recordProgress, startRun } from './runs.js';

export interface RefreshRequest {
  file: string;
  /** How the source is shown in the run history (a path relative to DATA_DIR, say). */
  source: string;
  mode: LoadMode;
  trigger: RunTrigger;
  onProgress?: (progress: LoadProgress) => void;
  signal?: AbortSignal;
}

export interface RefreshOutcome {
  run: RefreshRun;
  result?: LoadResult;
}

const PROGRESS_EVERY_MS = 1000;

export async function runRefresh(pool: Pool, logger: Logger, request: RefreshRequest): Promise<RefreshOutcome> {
  const bytesTotal = await fs.stat(request.file).then(
    (stat) => stat.size,
    () => null,
  );
  const run = await startRun(pool, { trigger: request.trigger, mode: request.mode, source: request.source, bytesTotal });
  const log = logger.child({ runId: run.id });
  log.info({ source: request.source, mode: request.mode, trigger: request.trigger, bytesTotal }, 'refresh started');

  let lastRecorded = 0;
  let latest: LoadProgress | undefined;
  const onProgress = (progress: LoadProgress) => {
    latest = progress;
    request.onProgress?.(progress);
    const now = Date.now();
    if (now - lastRecorded < PROGRESS_EVERY_MS) return;
    lastRecorded = now;
    log.debug(progress, 'refresh progress');
    recordProgress(pool, run.id, progress).catch((error) => log.warn({ err: error }, 'could not record progress'));
  };

  try {
    const result = await loadSales(pool, request.file, {
      mode: request.mode,
      runId: run.id,
      onProgress,
      signal: request.signal,
      logger: log,
    });
    const finished = await finishRun(pool, run.id, {
      status: 'succeeded',
      counts: result.counts,
      sha256: result.sha256,
      progress: latest,
    });
    log.info({ counts: result.counts, durationMs: result.durationMs, dataVersion: result.dataVersion }, 'refresh succeeded');
    return { run: finished, result };
  } catch (error) {
    const err = error as Error;
    const busy = error instanceof LoadBusyError;
    const finished = await finishRun(pool, run.id, {
      status: busy ? 'skipped' : 'failed',
      error: err.message,
      errorDetail: { name: err.name, ...(error instanceof InputFormatError || busy ? {} : { stack: err.stack }) },
      progress: latest,
    });
    if (busy) log.warn('refresh skipped: another refresh is running');
    else if (error instanceof InputFormatError)
      log.warn({ error: err.message }, 'refresh failed: the source cannot be loaded; the data is unchanged');
    else log.error({ err }, 'refresh failed; the data is unchanged');
    return { run: finished };
  }
}
