// The loader, a library first: the CLI, the refresh job and the API upload all call loadSales().
// Streams a file through parse -> validate -> in-file bookkeeping -> COPY into staging, then applies it with
// set-based SQL in ONE transaction: readers see the old data until the commit, and a failure changes nothing.
// A first load (an empty database) streams straight into the final tables instead (fresh-load.ts).
import { rm } from 'node:fs/promises';
import os from 'node:os';
import type { Pool, PoolClient } from 'pg';
import type { Logger } from 'pino';
import { copyRows, copyValue } from '../db/copy.js';
import { checkOut } from '../db/database.js';
import { createOwnedDirectory } from '../owned-directory.js';
import * as apply from './apply-sql.js';
import { COPY_EARLIER_REJECTS, earlierLoad, REST_ORDERS_STORED, type VersionSource, withEarlier } from './earlier-load.js';
import type { FileState } from './file-state.js';
import { analyzeTables, FACT_TABLES, IS_EMPTY, loadIntoEmptyDatabase, lockBulkTables } from './fresh-load.js';
import { LineSink, lineFigures } from './line-sink.js';
import type { SourceFormat } from './source.js';
import { rowsWritten, STALE_SHARE, TableStatistics } from './statistics.js';
import { type LoadProgress, LoadTracker, type Statement, statements, step } from './steps.js';
import type { StreamedFile, StreamOptions } from './stream-rows.js';
import { localDay, type SaleLine } from './validate-line.js';

export { InputFormatError } from './columns.js';
export type { LoadPhase, LoadProgress } from './steps.js';

export type LoadMode = 'append' | 'replace';

export interface LoadCounts {
  /** Data rows read (blank lines excluded) = rejected + duplicates + inserted + updated + unchanged. */
  read: number;
  inserted: number;
  updated: number;
  unchanged: number;
  duplicates: number;
  rejected: number;
  /** replace only: stored order lines that the file no longer has. */
  deleted: number;
}

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

/** Streams kept rows into stage_lines and rejected ones into refresh_rejects. */
class StagingSink extends LineSink {
  constructor(client: PoolClient, runId: number) {
    super(client, runId, apply.COPY_LINES);
  }

  keep(line: number, row: SaleLine): void {
    this.lines += `${line}\t${copyValue(row.orderCode)}\t${copyValue(row.productCode)}\t${lineFigures(row)}`;
  }

  async endPart(state: FileState): Promise<void> {
    const v = copyValue;
    await this.between(() =>
      copyRows(
        this.client,
        apply.COPY_ORDERS,
        state.orders(),
        ([code, o]) => `${v(code)}\t${v(o.customerCode)}\t${v(o.region)}\t${v(o.paymentMethod)}\t${o.saleDate}\n`,
      ),
    );
  }
}

async function stageDimensions(client: PoolClient, state: FileState): Promise<void> {
  const v = copyValue;
  await copyRows(client, apply.COPY_PRODUCTS, state.products(), ([code, p]) => `${v(code)}\t${v(p.name)}\t${v(p.category)}\n`);
  await copyRows(
    client,
    apply.COPY_CUSTOMERS,
    state.customers(),
    ([code, c]) => `${v(code)}\t${v(c.name)}\t${v(c.email)}\t${v(c.address)}\n`,
  );
}

/**
 * Upserts the file's orders and lines. Every reference they hold comes from an inner join on rows this
 * transaction has just upserted, so it is valid by construction; where the role may (a superuser, as on the
 * embedded server), the row-level foreign-key triggers are skipped for these two statements
 * (session_replication_role = replica): they were most of an append's time. Elsewhere they run as usual.
 */
async function upsertFacts(exec: Statement, statistics: TableStatistics): Promise<void> {
  const { superuser } = (await exec('check role', apply.IS_SUPERUSER)).rows[0] as { superuser: boolean };
  if (superuser) await exec('skip row triggers', `SET LOCAL session_replication_role = replica`);
  await statistics.wrote('orders', rowsWritten(await exec('upsert orders', apply.UPSERT_ORDERS)));
  await statistics.wrote('order_items', rowsWritten(await exec('upsert order items', apply.UPSERT_ORDER_ITEMS)));
  if (superuser) await exec('row triggers again', `SET LOCAL session_replication_role = origin`);
}

/**
 * Applies the staged file: dimensions, orders, order lines. Returns the counts and, when the load only adds
 * orders, the last order id before it (data_version.orders_added_after).
 */
async function applyStaged(exec: Statement, state: FileState, mode: LoadMode, signal?: AbortSignal) {
  await exec('drop superseded lines', apply.DROP_SUPERSEDED_LINES, [state.supersededLines]);
  await exec('analyze staging', apply.ANALYZE_STAGING);
  // Every step below is planned on statistics that hold for what it reads (statistics.ts).
  const statistics = new TableStatistics(exec);
  await statistics.checkBesideFile();
  const stored = await statistics.estimate('order_items');
  await exec('upsert dimensions', apply.UPSERT_DIMENSIONS);
  await statistics.wrote('products', rowsWritten(await exec('upsert products', apply.UPSERT_PRODUCTS)));
  await statistics.wrote('customers', rowsWritten(await exec('upsert customers', apply.UPSERT_CUSTOMERS)));
  await exec('resolve incoming orders', apply.RESOLVE_INCOMING_ORDERS);
  signal?.throwIfAborted();

  await exec('classify lines', apply.CLASSIFY_LINES);
  const classified = (await exec('count line changes', apply.COUNT_LINE_CHANGES)).rows[0] as Record<string, number>;
  const counts = { inserted: classified.inserted, updated: classified.updated, unchanged: classified.unchanged, deleted: 0 };
  let ordersAddedAfter: number | null = null;
  if (counts.updated === 0) {
    const adds = (await exec('check for new orders only', apply.NEW_ORDERS_ONLY)).rows[0];
    if (adds.new_orders_only) ordersAddedAfter = Number(adds.last_order);
  }
  await upsertFacts(exec, statistics);
  if (mode === 'replace') {
    counts.deleted = (await exec('delete absent lines', apply.DELETE_ABSENT_LINES)).rowCount ?? 0;
    await exec('delete orphans', apply.DELETE_ORPHANS);
    // Only names, products and customers can have gone with no line deleted: the version still only adds orders.
    if (counts.deleted > 0) ordersAddedAfter = null;
  }
  // A load that changes many of the stored lines leaves the statistics of what it changed, as autovacuum
  // would: it may be off, and it would run after the commit, when the next load has been planned.
  const changed = counts.inserted + counts.updated + counts.deleted;
  if (changed > STALE_SHARE * stored) await exec('analyze', analyzeTables(FACT_TABLES));
  return { counts, ordersAddedAfter };
}

/** Streams the file into the staging tables. */
function stageFile(client: PoolClient, file: string, options: StreamOptions & { runId: number }): Promise<StreamedFile> {
  return step(options, 'stream file into staging', () => new StagingSink(client, options.runId).stream(file, options));
}

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
    let ordersAddedAfter: number | null = null;
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
      ordersAddedAfter = applied.ordersAddedAfter;
      if (streamed.recognised && earlier) {
        await exec("copy the start's rejects", COPY_EARLIER_REJECTS, [options.runId, earlier.runId]);
        counts = withEarlier(earlier.source.counts, counts);
      }
    }
    const { sha256, bytes, format } = streamed;
    const source: VersionSource = { sha256, bytes, format, day: today, counts, whole: fresh || options.mode === 'replace' };
    const bumped = await exec('bump data version', apply.BUMP_DATA_VERSION, [options.runId, source, ordersAddedAfter]);
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
