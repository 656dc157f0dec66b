// The loader, a library first: the CLI, the refresh job and the API upload all call loadSales(). A file goes
// through its stages, one folder each, in ONE transaction: readers see the old data until the commit, and a
// failure changes nothing.
//   1-bytes/    the file's bytes: checked readable, hashed, decoded; its start recognised as an earlier file's
//   2-records/  bytes -> records with their line numbers: CSV, JSON, NDJSON; the header's columns
//   3-rows/     records -> checked rows: the rules of semantics.md, for a row (validate-line.ts), across a
//               file (file-state.ts) and in the counts (counts.ts)
//   4-record/   checked rows -> the record in PostgreSQL: straight into the tables of an empty database
//               (fresh-load.ts), or staged and applied set-based (staged-load.ts)
// The parsing thread (parse-worker.ts) runs the first three stages on the second core; stream-rows.ts keeps
// the in-file bookkeeping on this one and hands each row to the record's sink. After the commit, the
// analytics snapshot is made from the record (src/snapshot/).
import { rm } from 'node:fs/promises';
import os from 'node:os';
import type { Pool } from 'pg';
import type { Logger } from 'pino';
import { checkOut } from '../db/pool.js';
import { createOwnedDirectory } from '../owned-directory.js';
import type { SourceFormat } from './1-bytes/file.js';
import { type LoadCounts, type LoadMode, withEarlier } from './3-rows/counts.js';
import { localDay } from './3-rows/validate-line.js';
import * as apply from './4-record/apply-sql.js';
import { COPY_EARLIER_REJECTS, earlierLoad, REST_ORDERS_STORED, type VersionSource } from './4-record/earlier-load.js';
import { IS_EMPTY, loadIntoEmptyDatabase, lockBulkTables } from './4-record/fresh-load.js';
import { applyStaged, stageDimensions, stageFile } from './4-record/staged-load.js';
import { type LoadProgress, LoadTracker, statements, step } from './steps.js';
import type { StreamedFile } from './stream-rows.js';

export { InputFormatError } from './1-bytes/file.js';
export type { LoadCounts, LoadMode } from './3-rows/counts.js';
export type { LoadPhase, LoadProgress } from './steps.js';

export interface LoadResult {
  counts: LoadCounts;
  sha256: string;
  format: SourceFormat;
  dataVersion: number;
  durationMs: number;
  /** The bytes at the file's start recognised as the file the record was last loaded from, and not read again. */
  recognisedBytes: number;
}

export interface LoadOptions {
  mode: LoadMode;
  /** The refresh run the rejects are recorded under. */
  runId: number;
  format?: SourceFormat;
  /** The day of the load (YYYY-MM-DD) for the "not in the future" rule; default: today, local time. */
  today?: string;
  /** Called at each step and each batch read: the phase, the step, the bytes and rows read. */
  onProgress?: (progress: LoadProgress) => void;
  /** Aborting rolls the load back. */
  signal?: AbortSignal;
  /** Receives each step's duration at debug level. */
  logger?: Logger;
  /** The bytes of file per part, whatever its size (tests); default: by the file's size (stream-rows.ts). */
  partBytes?: number;
}

/** Another load holds the lock; nothing was changed. */
export class LoadBusyError extends Error {
  override name = 'LoadBusyError';
}

/** One load at a time across every process sharing the database (transaction-scoped advisory lock). */
export const LOAD_LOCK_KEY = 7_304_112_001;

/** What the stream counted: rows read, rejected, and superseded by a later row of their line key. */
function streamedCounts(streamed: StreamedFile) {
  return { read: streamed.read, rejected: streamed.rejected, duplicates: streamed.state.duplicates };
}

/**
 * Loads one file (CSV, JSON array or NDJSON) in `append` or `replace` mode, atomically.
 * Throws InputFormatError for a file that cannot be read as sales (nothing changes), LoadBusyError when
 * another load is running.
 */
export async function loadSales(pool: Pool, file: string, loadOptions: LoadOptions): Promise<LoadResult> {
  const started = performance.now();
  // The parts of a large file: removed with the load, whatever its outcome (and by
  // a later load when this process is killed).
  const directory = await createOwnedDirectory(os.tmpdir(), 'sales-analytics-load-');
  const today = loadOptions.today ?? localDay();
  const options = { ...loadOptions, today, directory, tracker: new LoadTracker(loadOptions.onProgress) };
  const session = await checkOut(pool).catch(async (error) => {
    await rm(directory, { recursive: true, force: true });
    throw error;
  });
  const { client } = session;
  let cancelStatement: (() => void) | undefined;
  let broken: Error | undefined;
  try {
    // Cancelling ends the statement in flight too (a rebuild or an upsert can run for many seconds between the
    // checks below): it fails, and the transaction rolls back.
    const backendPid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    cancelStatement = () => void pool.query('SELECT pg_cancel_backend($1)', [backendPid]).catch(() => {});
    options.signal?.addEventListener('abort', cancelStatement, { once: true });
    await client.query('BEGIN');
    const { rows } = await client.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [LOAD_LOCK_KEY]);
    if (!rows[0].locked) throw new LoadBusyError('another load is running');
    // A load sorts, hashes and aggregates whole files: give this transaction (only) the memory to do it in RAM.
    await client.query(`SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '512MB'`);
    const exec = statements(client, options);
    const { empty } = (await exec('check for data', IS_EMPTY)).rows[0] as { empty: boolean };
    let streamed: StreamedFile;
    let counts: LoadCounts;
    let changes: { orders: number; onlyAdded: boolean } | null = null;
    const fresh = empty && (await lockBulkTables(exec));
    if (fresh) {
      streamed = await loadIntoEmptyDatabase(client, exec, file, options);
      counts = { ...streamedCounts(streamed), inserted: streamed.state.lineCount, updated: 0, unchanged: 0, deleted: 0 };
    } else {
      await client.query(apply.CREATE_STAGING);
      const earlier = await earlierLoad(exec, options.mode, today);
      streamed = await stageFile(client, file, { ...options, earlier: earlier?.source });
      if (streamed.recognised && (await exec('check the rest has new orders only', REST_ORDERS_STORED)).rows[0].stored) {
        await exec('empty staging', apply.EMPTY_STAGING);
        await exec('forget rejects', apply.FORGET_REJECTS, [options.runId]);
        streamed = await stageFile(client, file, options);
      }
      await step(options, 'stage products, customers', () => stageDimensions(client, streamed.state));
      // The rest of a recognised file adds to what its start made, in either mode (earlier-load.ts).
      const applied = await applyStaged(exec, streamed.state, streamed.recognised ? 'append' : options.mode, options.signal);
      counts = { ...streamedCounts(streamed), ...applied.counts };
      changes = applied.changes;
      if (streamed.recognised && earlier) {
        await exec("copy the start's rejects", COPY_EARLIER_REJECTS, [options.runId, earlier.runId]);
        counts = withEarlier(earlier.source.counts, counts);
      }
    }
    const { sha256, bytes, format } = streamed;
    const source: VersionSource = { sha256, bytes, format, day: today, counts, whole: fresh || options.mode === 'replace' };
    await exec('forget older changes', apply.FORGET_OLDER_CHANGES);
    const bumped = await exec('bump data version', apply.BUMP_DATA_VERSION, [
      options.runId,
      source,
      changes?.orders ?? null,
      changes?.onlyAdded ?? null,
    ]);
    options.signal?.throwIfAborted();
    await client.query('COMMIT');
    return {
      counts,
      sha256,
      format,
      dataVersion: Number(bumped.rows[0].version),
      durationMs: Math.round(performance.now() - started),
      recognisedBytes: streamed.recognised?.bytes ?? 0,
    };
  } catch (error) {
    // A session whose rollback failed (a late cancel request can hit it) is not put back into the pool.
    await client.query('ROLLBACK').catch((rollbackError) => {
      broken = rollbackError;
    });
    throw error;
  } finally {
    if (cancelStatement) options.signal?.removeEventListener('abort', cancelStatement);
    session.release(broken);
    await rm(directory, { recursive: true, force: true });
  }
}
