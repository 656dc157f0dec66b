// The refreshes, read from the run history at each scrape: the runs of every process count (the CLI's, a
// second server's), and none is forgotten by a restart. The schedule and the running worker's heap are this
// process's own.
import { Counter, Gauge, Histogram, type Registry } from 'prom-client';
import type { ReadRouter } from '../db/read-pool.js';
import { runStatistics, succeededSince } from '../refresh/runs.js';
import type { RefreshScheduler } from '../refresh/scheduler.js';

/** From a sample's load (~0.1 s) to a 10M-line replace (~6 min) and well past it. */
const BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600, 7200, 14400];

const unixSeconds = (date: Date | null) => (date ? date.getTime() / 1000 : 0);

/** Sets the metrics from the record; call before each scrape is rendered. */
export function refreshMetrics(
  registry: Registry,
  sources: { reads: ReadRouter; scheduler: RefreshScheduler },
): () => Promise<void> {
  const registers = [registry];
  const runs = new Counter({
    name: 'sales_analytics_refresh_runs_total',
    help: 'Finished refresh runs, by trigger (schedule, api, cli, startup) and outcome (succeeded, failed, skipped).',
    labelNames: ['trigger', 'outcome'],
    registers,
  });
  const lines = new Counter({
    name: 'sales_analytics_refresh_lines_total',
    help: 'Lines of the succeeded runs by what became of them (read is their total; the others add up to it).',
    labelNames: ['kind'],
    registers,
  });
  const lastSuccess = new Gauge({
    name: 'sales_analytics_refresh_last_success_timestamp_seconds',
    help: 'When the newest succeeded run finished (Unix seconds; 0: none has).',
    registers,
  });
  const lastFailure = new Gauge({
    name: 'sales_analytics_refresh_last_failure_timestamp_seconds',
    help: 'When the newest failed run finished (Unix seconds; 0: none has).',
    registers,
  });
  const running = new Gauge({
    name: 'sales_analytics_refresh_running',
    help: '1 while a refresh is queued or running, in any process.',
    registers,
  });
  const duration = new Histogram({
    name: 'sales_analytics_refresh_duration_seconds',
    help: 'Succeeded runs, start to finish, counted from the first scrape of this process on.',
    buckets: BUCKETS,
    registers,
  });
  const phases = new Histogram({
    name: 'sales_analytics_refresh_phase_duration_seconds',
    help: "Succeeded runs' phases (preparing, reading, applying, snapshot), counted from the first scrape of this process on.",
    labelNames: ['phase'],
    buckets: BUCKETS,
    registers,
  });
  const nextRun = new Gauge({
    name: 'sales_analytics_refresh_next_run_timestamp_seconds',
    help: "When this process's schedule runs next (Unix seconds; 0: it has none).",
    registers,
  });
  const workerHeapUsed = new Gauge({
    name: 'sales_analytics_loader_heap_used_bytes',
    help: "The running refresh worker's V8 heap in use (0 while none runs).",
    registers,
  });
  const workerHeapLimit = new Gauge({
    name: 'sales_analytics_loader_heap_limit_bytes',
    help: "The most the running refresh worker's V8 heap may grow to (0 while none runs).",
    registers,
  });

  let observedUntil: string | undefined;
  return async () => {
    const { scheduler, reads } = sources;
    nextRun.set(unixSeconds(scheduler.nextRun() ?? null));
    const heap = scheduler.workerHeap;
    workerHeapUsed.set(heap?.used ?? 0);
    workerHeapLimit.set(heap?.limit ?? 0);

    // On the primary's probe pool: a database that does not answer fails this reading within its bound.
    const history = reads.primary.probe;
    const [statistics, succeeded] = await Promise.all([runStatistics(history), succeededSince(history, observedUntil)]);
    runs.reset();
    for (const row of statistics.runs) runs.inc({ trigger: row.trigger, outcome: row.status }, row.runs);
    lines.reset();
    for (const [kind, total] of Object.entries(statistics.lines)) lines.inc({ kind }, total);
    lastSuccess.set(unixSeconds(statistics.lastSuccess));
    lastFailure.set(unixSeconds(statistics.lastFailure));
    running.set(statistics.active ? 1 : 0);
    for (const run of succeeded.runs) {
      duration.observe(run.seconds);
      for (const [phase, seconds] of Object.entries(run.phaseSeconds)) phases.observe({ phase }, seconds);
    }
    observedUntil = succeeded.next;
  };
}
