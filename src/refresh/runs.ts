// Run bookkeeping: every load is a row of refresh_runs, written outside the load's transaction so that
// progress is visible while it runs and a failed run is recorded even though its data was rolled back.
import type { Pool, PoolClient } from 'pg';
import { storableText } from '../load/1-bytes/utf8.js';
import type { LoadCounts, LoadMode, LoadPhase, LoadProgress } from '../load/index.js';

type Queryable = Pool | PoolClient;

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'skipped';
export type RunTrigger = 'schedule' | 'api' | 'cli' | 'startup';
/** A run's phases as timed (refresh_runs.phase_seconds): the load's three, then the build of its snapshot. */
export type RunPhase = LoadPhase | 'snapshot';
export type PhaseSeconds = Partial<Record<RunPhase, number>>;

export interface RefreshRun {
  id: number;
  status: RunStatus;
  trigger: RunTrigger;
  mode: LoadMode;
  source: string;
  sourceSha256: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  durationMs: number | null;
  progress: { bytesRead: number; bytesTotal: number | null; rowsRead: number };
  /** While running: what the load is doing, and its step; null otherwise. */
  phase: LoadPhase | null;
  step: string | null;
  counts: LoadCounts | null;
  error: string | null;
}

const RUN_COLUMNS = `
  id::integer AS id, status, trigger, mode, source, source_sha256,
  started_at, finished_at,
  (extract(epoch FROM finished_at - started_at) * 1000)::integer AS duration_ms,
  bytes_read, bytes_total, rows_read, phase, step, counts, error`;

interface RunRow {
  id: number;
  status: RunStatus;
  trigger: RunTrigger;
  mode: LoadMode;
  source: string;
  source_sha256: string | null;
  started_at: Date | null;
  finished_at: Date | null;
  duration_ms: number | null;
  bytes_read: number;
  bytes_total: number | null;
  rows_read: number;
  phase: LoadPhase | null;
  step: string | null;
  counts: LoadCounts | null;
  error: string | null;
}

/** jsonb reorders keys; answer them in the order of the summary: read, then where each row went. */
function countsInOrder(counts: LoadCounts): LoadCounts {
  const { read, inserted, updated, unchanged, duplicates, rejected, deleted } = counts;
  return { read, inserted, updated, unchanged, duplicates, rejected, deleted };
}

function toRun(row: RunRow): RefreshRun {
  return {
    id: row.id,
    status: row.status,
    trigger: row.trigger,
    mode: row.mode,
    source: row.source,
    sourceSha256: row.source_sha256,
    startedAt: row.started_at?.toISOString() ?? null,
    finishedAt: row.finished_at?.toISOString() ?? null,
    durationMs: row.duration_ms,
    progress: { bytesRead: row.bytes_read, bytesTotal: row.bytes_total, rowsRead: row.rows_read },
    phase: row.phase,
    step: row.step,
    counts: row.counts && countsInOrder(row.counts),
    error: row.error,
  };
}

export interface NewRun {
  trigger: RunTrigger;
  mode: LoadMode;
  source: string;
}

/** Records a run: `queued` (its worker has not started yet) or `running`. */
export async function insertRun(pool: Queryable, run: NewRun & { status: 'queued' | 'running' }): Promise<RefreshRun> {
  const { rows } = await pool.query<RunRow>(
    `INSERT INTO refresh_runs (status, trigger, mode, source, started_at)
     VALUES ($1, $2, $3, $4, CASE WHEN $1 = 'running' THEN now() END) RETURNING ${RUN_COLUMNS}`,
    [run.status, run.trigger, run.mode, run.source],
  );
  return toRun(rows[0]);
}

/** A run that never started because another one held the refresh lock. */
export async function insertSkippedRun(pool: Queryable, run: NewRun, reason: string): Promise<RefreshRun> {
  const { rows } = await pool.query<RunRow>(
    `INSERT INTO refresh_runs (status, trigger, mode, source, error, started_at, finished_at)
     VALUES ('skipped', $1, $2, $3, $4, now(), now()) RETURNING ${RUN_COLUMNS}`,
    [run.trigger, run.mode, run.source, reason],
  );
  return toRun(rows[0]);
}

export async function markRunning(pool: Queryable, id: number, bytesTotal: number | null): Promise<void> {
  await pool.query(
    `UPDATE refresh_runs SET status = 'running', phase = 'preparing', bytes_total = $2, started_at = coalesce(started_at, now())
     WHERE id = $1`,
    [id, bytesTotal],
  );
}

/** Why an interrupted run failed: before its load committed (nothing changed), or after (its data is in). */
const BEFORE_COMMIT = `'interrupted: the process running this refresh stopped before it finished; no data was changed'`;
const AFTER_COMMIT = `'interrupted after its data was committed (data version ' || (SELECT version FROM data_version) ||
  '): its analytics snapshot was not published; the next start builds it'`;

/**
 * Runs left queued or running by a process that died; only safe to call while holding the refresh lock. Like
 * every finished run they have no phase or step; where the run stopped is kept in error_detail.
 */
export async function failInterruptedRuns(pool: Queryable): Promise<number[]> {
  const { rows } = await pool.query<{ id: number }>(
    `UPDATE refresh_runs
     SET status = 'failed', finished_at = now(), started_at = coalesce(started_at, created_at),
         error = CASE WHEN id = (SELECT run_id FROM data_version) THEN ${AFTER_COMMIT} ELSE ${BEFORE_COMMIT} END,
         error_detail = jsonb_build_object('name', 'Interrupted', 'phase', phase, 'step', step), phase = NULL, step = NULL
     WHERE status IN ('queued', 'running') RETURNING id::integer AS id`,
  );
  return rows.map((row) => row.id);
}

export async function findActiveRun(pool: Queryable): Promise<RefreshRun | undefined> {
  const { rows } = await pool.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM refresh_runs WHERE status IN ('queued', 'running') ORDER BY id DESC LIMIT 1`,
  );
  return rows[0] && toRun(rows[0]);
}

/** The newest successful run, whose source checksum decides whether a refresh can be skipped. */
export async function lastSucceededRun(pool: Queryable): Promise<RefreshRun | undefined> {
  const { rows } = await pool.query<RunRow>(
    `SELECT ${RUN_COLUMNS} FROM refresh_runs WHERE status = 'succeeded' ORDER BY id DESC LIMIT 1`,
  );
  return rows[0] && toRun(rows[0]);
}

export async function listRuns(
  pool: Queryable,
  page: { limit: number; offset: number },
): Promise<{ items: RefreshRun[]; total: number }> {
  const [items, total] = await Promise.all([
    pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM refresh_runs ORDER BY id DESC LIMIT $1 OFFSET $2`, [page.limit, page.offset]),
    pool.query<{ total: number }>('SELECT count(*) AS total FROM refresh_runs'),
  ]);
  return { items: items.rows.map(toRun), total: total.rows[0].total };
}

export async function recordProgress(pool: Pool, id: number, progress: LoadProgress): Promise<void> {
  await pool.query(
    `UPDATE refresh_runs SET bytes_read = $2, rows_read = $3, phase = $4, step = $5 WHERE id = $1 AND status = 'running'`,
    [id, progress.bytesRead, progress.rowsRead, progress.phase, progress.step],
  );
}

export async function finishRun(
  pool: Pool,
  id: number,
  outcome: {
    status: 'succeeded' | 'failed' | 'skipped';
    counts?: LoadCounts;
    sha256?: string;
    error?: string;
    errorDetail?: unknown;
    progress?: LoadProgress;
    phaseSeconds?: PhaseSeconds;
  },
): Promise<RefreshRun> {
  const { rows } = await pool.query<RunRow>(
    `UPDATE refresh_runs
     SET status = $2, counts = $3, source_sha256 = coalesce($4, source_sha256), error = $5, error_detail = $6,
         bytes_read = coalesce($7, bytes_read), rows_read = coalesce($8, rows_read), phase = NULL, step = NULL,
         phase_seconds = $9, finished_at = now()
     WHERE id = $1 RETURNING ${RUN_COLUMNS}`,
    [
      id,
      outcome.status,
      outcome.counts ?? null,
      outcome.sha256 ?? null,
      // An error may quote the file (a header name, a parser's message): a NUL in it must not keep the run from finishing.
      outcome.error === undefined ? null : storableText(outcome.error),
      outcome.errorDetail === undefined
        ? null
        : JSON.stringify(outcome.errorDetail, (_key, value) => (typeof value === 'string' ? storableText(value) : value)),
      outcome.progress?.bytesRead ?? null,
      outcome.progress?.rowsRead ?? null,
      outcome.phaseSeconds ?? null,
    ],
  );
  return toRun(rows[0]);
}

/** What the run history says as a whole (the refresh metrics: every process's runs, the CLI's included). */
export interface RunStatistics {
  /** Finished runs by trigger and outcome. */
  runs: { trigger: RunTrigger; status: 'succeeded' | 'failed' | 'skipped'; runs: number }[];
  /** The counts of the succeeded runs, summed key by key. */
  lines: Partial<LoadCounts>;
  lastSuccess: Date | null;
  lastFailure: Date | null;
  /** A run queued or running. */
  active: boolean;
}

export async function runStatistics(pool: Queryable): Promise<RunStatistics> {
  const { rows } = await pool.query<{
    runs: RunStatistics['runs'];
    lines: RunStatistics['lines'];
    last_success: Date | null;
    last_failure: Date | null;
    active: boolean;
  }>(
    `SELECT (SELECT coalesce(json_agg(finished), '[]') FROM (
               SELECT trigger, status, count(*)::integer AS runs FROM refresh_runs
               WHERE status IN ('succeeded', 'failed', 'skipped') GROUP BY trigger, status) finished) AS runs,
            (SELECT coalesce(json_object_agg(key, total), '{}') FROM (
               SELECT key, sum(value::bigint) AS total FROM refresh_runs, jsonb_each_text(counts)
               WHERE status = 'succeeded' GROUP BY key) counted) AS lines,
            max(finished_at) FILTER (WHERE status = 'succeeded') AS last_success,
            max(finished_at) FILTER (WHERE status = 'failed') AS last_failure,
            bool_or(status IN ('queued', 'running')) IS TRUE AS active
     FROM refresh_runs`,
  );
  const { runs, lines, last_success, last_failure, active } = rows[0];
  return { runs, lines, lastSuccess: last_success, lastFailure: last_failure, active };
}

/**
 * The phases' seconds of each run that succeeded after `since` (a finished_at as PostgreSQL writes it, exact
 * to the microsecond), oldest first, and the finished_at to ask after next time; without `since`, none: only
 * where to start. Succeeded runs hold the refresh lock until they are recorded, so no two finish together.
 */
export async function succeededSince(
  pool: Queryable,
  since: string | undefined,
): Promise<{ runs: { phaseSeconds: PhaseSeconds; seconds: number }[]; next: string }> {
  if (since === undefined) {
    const { rows } = await pool.query<{ last: string }>(
      `SELECT coalesce(max(finished_at), '-infinity')::text AS last FROM refresh_runs WHERE status = 'succeeded'`,
    );
    return { runs: [], next: rows[0].last };
  }
  const { rows } = await pool.query<{ phase_seconds: PhaseSeconds | null; seconds: number; finished: string }>(
    `SELECT phase_seconds, extract(epoch FROM finished_at - started_at)::float8 AS seconds, finished_at::text AS finished
     FROM refresh_runs WHERE status = 'succeeded' AND finished_at > $1::timestamptz ORDER BY finished_at`,
    [since],
  );
  return {
    runs: rows.map((row) => ({ phaseSeconds: row.phase_seconds ?? {}, seconds: row.seconds })),
    next: rows.at(-1)?.finished ?? since,
  };
}

export async function getRun(pool: Pool, id: number): Promise<RefreshRun | undefined> {
  const { rows } = await pool.query<RunRow>(`SELECT ${RUN_COLUMNS} FROM refresh_runs WHERE id = $1`, [id]);
  return rows[0] && toRun(rows[0]);
}

export interface RunReject {
  line: number;
  reasons: string[];
  raw: string;
}

export async function listRejects(
  pool: Pool,
  runId: number,
  page: { limit: number; offset: number },
): Promise<{ items: RunReject[]; total: number }> {
  const [items, total] = await Promise.all([
    pool.query<RunReject>('SELECT line, reasons, raw FROM refresh_rejects WHERE run_id = $1 ORDER BY line LIMIT $2 OFFSET $3', [
      runId,
      page.limit,
      page.offset,
    ]),
    pool.query<{ total: number }>('SELECT count(*) AS total FROM refresh_rejects WHERE run_id = $1', [runId]),
  ]);
  return { items: items.rows, total: total.rows[0].total };
}

/** Every reject of a run (or one page of them), read in batches so that any number can be streamed. */
export async function* rejectsOf(pool: Pool, runId: number, page?: { limit: number; offset: number }): AsyncGenerator<RunReject> {
  if (page) {
    yield* (await listRejects(pool, runId, page)).items;
    return;
  }
  let after = 0;
  for (;;) {
    const { rows } = await pool.query<RunReject>(
      'SELECT line, reasons, raw FROM refresh_rejects WHERE run_id = $1 AND line > $2 ORDER BY line LIMIT 5000',
      [runId, after],
    );
    yield* rows;
    if (rows.length < 5000) return;
    after = rows[rows.length - 1].line;
  }
}
