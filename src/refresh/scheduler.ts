// The refresh scheduler: Bree runs jobs/refresh in a worker thread on the configured cron schedule, and for
// each run the API queues. The main thread stays free to answer requests while a load runs.
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import later from '@breejs/later';
import Bree from 'bree';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import type { Config } from '../config.js';
import { refreshJobFile } from '../paths.js';
import type { RefreshClaim } from './claim.js';
import type { RefreshRequest } from './refresh.js';
import { finishRun, getRun, type RefreshRun } from './runs.js';

/** What a refresh worker is started with (structured-cloned into the thread). */
export interface RefreshJobData {
  databaseUrl: string;
  logLevel: string;
  request: Omit<RefreshRequest, 'onProgress' | 'signal'>;
}

/** A refresh worker's V8 heap: what it uses, and the most it may (the metrics). */
export interface WorkerHeap {
  used: number;
  limit: number;
}

/** What a refresh worker posts back: its log lines and its heap while it runs, then how the run ended. */
export type RefreshJobMessage = { log: string } | { heap: WorkerHeap } | { finished: RefreshRun } | { failed: string };

export interface SchedulerOptions {
  config: Config;
  pool: Pool;
  databaseUrl: string;
  logger: Logger;
  /** Where the workers' log lines go (the main logger's destinations). */
  writeLogLine: (line: string) => void;
}

const SCHEDULED_JOB = 'scheduled-refresh';
/** How often a run that could not be recorded as failed (the database away) is tried again. */
const RECORD_RETRY_MS = 1000;

const hasSeconds = (cron: string) => cron.trim().split(/\s+/).length === 6;

/** A time zone's offset from UTC at `date`, as @breejs/later counts it (UTC minus the zone's wall clock). */
function offsetOf(date: Date, timeZone: string): number {
  const wall = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(date);
  const part = (type: string) => Number(wall.find((p) => p.type === type)?.value);
  const asUtc = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'), part('second'));
  return Math.floor(date.getTime() / 1000) * 1000 - asUtc;
}

/**
 * When a cron schedule next runs in a time zone, computed as Bree's timer does (@breejs/later's setTimeout,
 * which Bree sets to local time): the schedule is read on the zone's wall clock, and an occurrence less than a
 * second away is passed over for the next one.
 */
export function nextScheduledRun(cron: string, timeZone: string, now = new Date()): Date | undefined {
  const schedule = later.schedule(later.parse.cron(cron, hasSeconds(cron)));
  const shift = now.getTimezoneOffset() * 60_000 - offsetOf(now, timeZone);
  // From the whole second: later keeps the start's milliseconds in a schedule of seconds.
  const next = schedule.next(2, new Date(Math.floor(now.getTime() / 1000) * 1000 + shift));
  if (!Array.isArray(next) || next.length === 0) return undefined;
  const [first, second] = next.map((date) => new Date(date.getTime() - shift));
  return first.getTime() - now.getTime() < 1000 ? second : first;
}

export class RefreshScheduler {
  private readonly bree: Bree;
  private readonly runs = new Map<string, { finished?: RefreshRun; failed?: string; done: () => void }>();
  private stopping = false;
  private scheduled = false;
  /** The running refresh worker's heap, as it last posted it. */
  private heap: WorkerHeap | undefined;

  constructor(private readonly options: SchedulerOptions) {
    const log = options.logger.child({ component: 'scheduler' });
    this.bree = new Bree({
      root: false,
      doRootCheck: false,
      removeCompleted: true,
      // Bree narrates every worker's life at info; those lines are debug detail next to the run's own.
      logger: {
        info: (message: string) => log.debug(message),
        warn: (message: unknown) => log.warn(String(message)),
        error: (message: unknown) => log.error(String(message)),
      },
      errorHandler: (error, data) => log.error({ err: error, job: data.name }, 'refresh worker failed'),
      workerMessageHandler: ({ name, message }) => this.onMessage(name, message as RefreshJobMessage | 'done'),
    });
    this.bree.on('worker deleted', (name: string) => {
      this.heap = undefined;
      this.runs.get(name)?.done();
    });
  }

  /** Starts the cron schedule (unless REFRESH_CRON is empty). */
  async start(): Promise<void> {
    const { refresh, dataDir } = this.options.config;
    if (!refresh.cron.trim()) {
      this.options.logger.info('no refresh schedule (REFRESH_CRON is empty)');
      return;
    }
    await this.bree.add({
      name: SCHEDULED_JOB,
      path: refreshJobFile,
      cron: refresh.cron,
      hasSeconds: hasSeconds(refresh.cron),
      timezone: refresh.timezone,
      timeout: false,
      worker: {
        workerData: this.jobData({
          file: path.resolve(dataDir, refresh.source),
          source: refresh.source,
          mode: refresh.mode,
          trigger: 'schedule',
          skipUnchanged: true,
          skipMissing: true,
        }),
      },
    });
    await this.bree.start(SCHEDULED_JOB);
    this.scheduled = true;
    this.options.logger.info(
      { cron: refresh.cron, timezone: refresh.timezone, source: refresh.source, mode: refresh.mode },
      'refresh schedule started',
    );
  }

  /** Runs a refresh the caller already claimed in a worker; resolves with the finished run, then frees the claim. */
  async runClaimed(claim: RefreshClaim, request: Omit<RefreshJobData['request'], 'claimed'>): Promise<RefreshRun> {
    const name = `refresh-run-${claim.run.id}`;
    try {
      const ended = new Promise<void>((resolve) => this.runs.set(name, { done: resolve }));
      await this.bree.add({
        name,
        path: refreshJobFile,
        timeout: false,
        worker: { workerData: this.jobData({ ...request, claimed: claim.run }) },
      });
      await this.bree.run(name);
      await ended;
      const { finished, failed } = this.runs.get(name) ?? {};
      if (finished) return finished;
      // The worker ended without recording an outcome (it died, or the database went away): its load was
      // rolled back with its connection.
      return await this.recordFailure(claim.run.id, failed);
    } catch (error) {
      this.options.logger.error({ err: error, runId: claim.run.id }, 'could not run the refresh worker');
      const run = await getRun(this.options.pool, claim.run.id);
      if (run?.status === 'queued' || run?.status === 'running') {
        return finishRun(this.options.pool, claim.run.id, { status: 'failed', error: (error as Error).message });
      }
      return run ?? claim.run;
    } finally {
      this.runs.delete(name);
      await claim.release();
    }
  }

  /** When the schedule runs next; undefined without one (or once stopping). */
  nextRun(now = new Date()): Date | undefined {
    if (!this.scheduled || this.stopping) return undefined;
    const { cron, timezone } = this.options.config.refresh;
    return nextScheduledRun(cron, timezone, now);
  }

  /** The running refresh worker's V8 heap, as it last posted it; undefined when none runs. */
  get workerHeap(): WorkerHeap | undefined {
    return this.heap;
  }

  /** True while a refresh worker is running in this process. */
  get busy(): boolean {
    return this.bree.workers.size > 0;
  }

  /**
   * Stops the schedule, lets running refreshes finish within `graceMs` (or until `cutShort` aborts), then
   * cancels what is left (each load rolls back and its run is recorded as failed) and waits for the workers to end.
   */
  async stop(graceMs: number, cutShort?: AbortSignal): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.bree.removeSafeTimer('timeouts', SCHEDULED_JOB);
    this.bree.removeSafeTimer('intervals', SCHEDULED_JOB);
    const deadline = Date.now() + graceMs;
    if (this.busy) this.options.logger.info({ graceMs }, 'waiting for the running refresh to finish');
    while (this.busy && Date.now() < deadline && !cutShort?.aborted) await new Promise((resolve) => setTimeout(resolve, 100));
    if (this.busy) this.options.logger.warn('cancelling the running refresh (it rolls back)');
    await this.bree.stop();
  }

  /**
   * Records a run whose worker could not as failed, with the worker's reason when it gave one. While the
   * database is away, tries again each RECORD_RETRY_MS until it answers (or the scheduler stops), so the run
   * does not read `running` once it is back.
   */
  private async recordFailure(runId: number, reason: string | undefined): Promise<RefreshRun> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await finishRun(this.options.pool, runId, {
          status: 'failed',
          error: reason ?? 'the refresh worker stopped before the run finished; no data was changed',
          errorDetail: { name: reason ? 'WorkerFailed' : 'WorkerExited' },
        });
      } catch (error) {
        if (this.stopping) throw error;
        if (attempt === 1) this.options.logger.warn({ err: error, runId }, 'cannot record the failed run yet; trying again');
        await sleep(RECORD_RETRY_MS);
      }
    }
  }

  private jobData(request: RefreshJobData['request']): RefreshJobData {
    // Every run the worker makes publishes the analytics snapshot of the version it loaded.
    return {
      databaseUrl: this.options.databaseUrl,
      logLevel: this.options.config.log.level,
      request: { ...request, analytics: this.options.config.analytics },
    };
  }

  private onMessage(name: string, message: RefreshJobMessage | 'done'): void {
    if (message === 'done') return;
    if ('log' in message) this.options.writeLogLine(message.log);
    else if ('heap' in message) this.heap = message.heap;
    else if ('finished' in message) {
      const run = this.runs.get(name);
      if (run) run.finished = message.finished;
    } else {
      const run = this.runs.get(name);
      if (run) run.failed = message.failed;
      this.options.logger.error({ job: name, error: message.failed }, 'refresh worker failed');
    }
  }
}
