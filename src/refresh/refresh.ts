// One refresh: claim the refresh lock and record a run, load the file, record how it ended. Every caller
// (CLI, scheduler worker, API) goes through here, so every load is in the run history, successful or not.
import fs from 'node:fs/promises';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { type SourceFormat, sha256File } from '../load/1-bytes/file.js';
import { InputFormatError, LoadBusyError, type LoadMode, type LoadProgress, type LoadResult, loadSales } from '../load/index.js';
import type { SnapshotLimits } from '../snapshot/build.js';
import { buildSnapshotApart } from '../snapshot/build-apart.js';
import { claimRefresh } from './claim.js';
import {
  finishRun,
  insertSkippedRun,
  lastSucceededRun,
  markRunning,
  type PhaseSeconds,
  type RefreshRun,
  type RunPhase,
  type RunTrigger,
  recordProgress,
} from './runs.js';

export interface RefreshRequest {
  file: string;
  /** How the source is shown in the run history (a path relative to DATA_DIR, say). */
  source: string;
  mode: LoadMode;
  trigger: RunTrigger;
  format?: SourceFormat;
  /** The bytes of file per part of the load (LoadOptions.partBytes); default: the loader's. */
  partBytes?: number;
  /** A queued run the caller already claimed (it holds the refresh lock until this returns). */
  claimed?: RefreshRun;
  /** Record the run as skipped when the source is byte-identical to the last successful run's. */
  skipUnchanged?: boolean;
  /** Record the run as skipped when the file does not exist (yet): a schedule set up before its first file. */
  skipMissing?: boolean;
  onProgress?: (progress: LoadProgress) => void;
  /** Where the analytics snapshot of each loaded version is published; the run succeeds once it is. */
  analytics?: { directory: string; limits: SnapshotLimits };
  /** Aborting rolls the load back; the run is recorded as failed. */
  signal?: AbortSignal;
}

export interface RefreshOutcome {
  run: RefreshRun;
  /** The load's outcome, once it has succeeded. */
  result?: LoadResult;
  /** A failed run whose load committed (its snapshot was not published): the data version it made. */
  committed?: number;
}

const PROGRESS_EVERY_MS = 1000;
/** The step under which the progress shows the snapshot's build (the run's `snapshot` phase). */
const BUILD_STEP = 'build the analytics snapshot';

/** The seconds a run spends in each phase, from its start (refresh_runs.phase_seconds). */
class PhaseClock {
  private phase: RunPhase = 'preparing';
  private since = performance.now();
  private readonly seconds: PhaseSeconds = {};

  enter(phase: RunPhase): void {
    if (phase === this.phase) return;
    this.lap();
    this.phase = phase;
  }

  /** Each phase's seconds so far, to the millisecond. */
  read(): PhaseSeconds {
    this.lap();
    return Object.fromEntries(Object.entries(this.seconds).map(([phase, seconds]) => [phase, Math.round(seconds * 1000) / 1000]));
  }

  private lap(): void {
    const now = performance.now();
    this.seconds[this.phase] = (this.seconds[this.phase] ?? 0) + (now - this.since) / 1000;
    this.since = now;
  }
}

/** The load committed, its analytics snapshot could not be published: the run fails, saying both. */
class SnapshotNotPublished extends Error {
  override name = 'SnapshotNotPublished';

  constructor(
    readonly dataVersion: number,
    reason: string,
  ) {
    super(`loaded as data version ${dataVersion}, but ${reason}`);
  }
}

export async function runRefresh(pool: Pool, logger: Logger, request: RefreshRequest): Promise<RefreshOutcome> {
  if (request.claimed) return execute(pool, logger, request.claimed, request);
  const newRun = { trigger: request.trigger, mode: request.mode, source: request.source };
  const outcome = await claimRefresh(pool, logger, { ...newRun, status: 'running' });
  if ('busy' in outcome) {
    const reason = `another refresh is running${outcome.busy ? ` (run ${outcome.busy.id})` : ''}`;
    const run = await insertSkippedRun(pool, newRun, reason);
    logger.warn({ runId: run.id, activeRunId: outcome.busy?.id }, `refresh skipped: ${reason}`);
    return { run };
  }
  try {
    return await execute(pool, logger, outcome.claim.run, request);
  } finally {
    await outcome.claim.release();
  }
}

/** Why this source need not be loaded again, if it need not. */
async function unchangedSince(pool: Pool, request: RefreshRequest): Promise<string | undefined> {
  const last = await lastSucceededRun(pool);
  if (!last?.sourceSha256) return undefined;
  // Appending what was already loaded changes nothing; replacing does only after a replace of the same bytes.
  if (request.mode === 'replace' && last.mode !== 'replace') return undefined;
  if ((await sha256File(request.file)) !== last.sourceSha256) return undefined;
  return `the source is identical to the one run ${last.id} loaded (same SHA-256); force the refresh to load it again`;
}

/** Why there is nothing to load, if the file does not exist. */
async function missing(request: RefreshRequest): Promise<string | undefined> {
  const absent = await fs.access(request.file).then(
    () => false,
    (error: NodeJS.ErrnoException) => error.code === 'ENOENT',
  );
  return absent ? `no file ${request.source} yet` : undefined;
}

function reasonOf(signal: AbortSignal): string {
  return signal.reason instanceof Error ? signal.reason.message : String(signal.reason);
}

async function execute(pool: Pool, logger: Logger, run: RefreshRun, request: RefreshRequest): Promise<RefreshOutcome> {
  const log = logger.child({ runId: run.id });
  const clock = new PhaseClock();
  const bytesTotal = await fs.stat(request.file).then(
    (stat) => stat.size,
    () => null,
  );
  await markRunning(pool, run.id, bytesTotal);
  log.info({ source: request.source, mode: request.mode, trigger: request.trigger, bytesTotal }, 'refresh started');

  let lastRecorded = 0;
  let latest: LoadProgress | undefined;
  // One UPDATE at a time, in order: two in flight could land out of order and leave an older phase.
  let recording = Promise.resolve();
  const onProgress = (progress: LoadProgress) => {
    const moved = progress.phase !== latest?.phase || progress.step !== latest?.step;
    latest = progress;
    clock.enter(progress.step === BUILD_STEP ? 'snapshot' : progress.phase);
    request.onProgress?.(progress);
    const now = Date.now();
    // A new phase or step is recorded at once (the apply after the last byte can take most of a load); bytes each second.
    if (!moved && now - lastRecorded < PROGRESS_EVERY_MS) return;
    if (now - lastRecorded >= PROGRESS_EVERY_MS) log.info(progress, 'refresh progress');
    lastRecorded = now;
    recording = recording
      .then(() => recordProgress(pool, run.id, progress))
      .catch((error) => log.warn({ err: error }, 'could not record progress'));
  };

  try {
    const skipped =
      (request.skipMissing && (await missing(request))) || (request.skipUnchanged && (await unchangedSince(pool, request)));
    if (skipped) {
      const finished = await finishRun(pool, run.id, { status: 'skipped', error: skipped });
      log.info(`refresh skipped: ${skipped}`);
      return { run: finished };
    }
    const result = await loadSales(pool, request.file, {
      mode: request.mode,
      runId: run.id,
      format: request.format,
      partBytes: request.partBytes,
      onProgress,
      signal: request.signal,
      logger: log,
    });
    if (request.analytics) {
      onProgress({ ...latest!, phase: 'applying', step: BUILD_STEP });
      // In a process of its own: the build's memory is not added to what this load's heap keeps.
      const databaseUrl = pool.options.connectionString!;
      const built = await buildSnapshotApart(
        databaseUrl,
        request.analytics.directory,
        request.analytics.limits,
        request.signal,
      ).catch((error: Error) => {
        throw new SnapshotNotPublished(result.dataVersion, error.message);
      });
      log.info({ dataVersion: built.version, ms: built.ms, made: built.made }, 'analytics snapshot published');
    }
    await recording;
    const finished = await finishRun(pool, run.id, {
      status: 'succeeded',
      counts: result.counts,
      sha256: result.sha256,
      progress: latest,
      phaseSeconds: clock.read(),
    });
    const { counts, durationMs, dataVersion, recognisedBytes } = result;
    log.info({ counts, durationMs, dataVersion, recognisedBytes }, 'refresh succeeded');
    return { run: finished, result };
  } catch (error) {
    const err = error as Error;
    const busy = error instanceof LoadBusyError;
    const expected = busy || error instanceof InputFormatError;
    // The run history is public: the file is named as its source is (relative to DATA_DIR), not by its path here.
    // A run whose load committed says so, cancelled or not.
    const message =
      request.signal?.aborted && !(error instanceof SnapshotNotPublished)
        ? `cancelled: ${reasonOf(request.signal)}`
        : err.message.replaceAll(request.file, request.source);
    await recording;
    const finished = await finishRun(pool, run.id, {
      status: busy ? 'skipped' : 'failed',
      error: message,
      errorDetail: { name: err.name, ...(expected ? {} : { stack: err.stack }) },
      progress: latest,
      phaseSeconds: clock.read(),
    }).catch((recordError) => {
      // The database went away (what failed the load, often): the load's error is the one to report.
      log.error({ err: recordError, error: message }, 'refresh failed and could not be recorded; the data is unchanged');
      throw new Error(message, { cause: err });
    });
    if (busy) log.warn('refresh skipped: another load is running');
    else if (error instanceof SnapshotNotPublished)
      log.error({ err, error: message }, 'refresh failed after its load committed; the previous analytics snapshot answers');
    else if (expected) log.warn({ error: message }, 'refresh failed: the source cannot be loaded; the data is unchanged');
    else log.error({ err, error: message }, 'refresh failed; the data is unchanged');
    return { run: finished, ...(error instanceof SnapshotNotPublished && { committed: error.dataVersion }) };
  }
}
