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
import type { FileState } from './file-state.js';
import { analyzeTables, FACT_TABLES, IS_EMPTY, loadIntoEmptyDatabase, lockBulkTables } from './fresh-load.js';
import { LineSink, lineFigures } from './line-sink.js';
import type { SourceFormat } from './source.js';
import { rowsWritten, STALE_SHARE, TableStatistics } from './statistics.js';
import { type LoadProgress, LoadTracker, type Statement, statements, step } from './steps.js';
import type { StreamedFile } from './stream-rows.js';
import type { SaleLine } from './validate-line.js';

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

/** Applies the staged file: dimensions, orders, order lines. Returns the counts. */
async function applyStaged(exec: Statement, state: FileState, options: LoadOptions) {
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
  options.signal?.throwIfAborted();

  await exec('classify lines', apply.CLASSIFY_LINES);
  const classified = (await exec('count line changes', apply.COUNT_LINE_CHANGES)).rows[0] as Record<string, number>;
  const counts = { inserted: classified.inserted, updated: classified.updated, unchanged: classified.unchanged, deleted: 0 };
  await upsertFacts(exec, statistics);
  if (options.mode === 'replace') {
    counts.deleted = (await exec('delete absent lines', apply.DELETE_ABSENT_LINES)).rowCount ?? 0;
    await exec('delete orphans', apply.DELETE_ORPHANS);
  }
  // A load that changes many of the stored lines leaves the statistics of what it changed, as autovacuum
  // would: it may be off, and it would run after the commit, when the next load has been planned.
  const changed = counts.inserted + counts.updated + counts.deleted;
  if (changed > STALE_SHARE * stored) await exec('analyze', analyzeTables(FACT_TABLES));
  return counts;
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
  const options = { ...loadOptions, directory, tracker: new LoadTracker(loadOptions.onProgress) };
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
    let applied: Omit<LoadCounts, 'read' | 'rejected' | 'duplicates'>;
    if (empty && (await lockBulkTables(exec))) {
      streamed = await loadIntoEmptyDatabase(client, exec, file, options);
      applied = { inserted: streamed.state.lineCount, updated: 0, unchanged: 0, deleted: 0 };
    } else {
      await client.query(apply.CREATE_STAGING);
      const sink = new StagingSink(client, options.runId);
      streamed = await step(options, 'stream file into staging', () => sink.stream(file, options));
      await step(options, 'stage products, customers', () => stageDimensions(client, streamed.state));
      applied = await applyStaged(exec, streamed.state, options);
    }
    const dataVersion = Number((await exec('bump data version', apply.BUMP_DATA_VERSION, [options.runId])).rows[0].version);
    options.signal?.throwIfAborted();
    await client.query('COMMIT');
    return {
      counts: { read: streamed.read, rejected: streamed.rejected, duplicates: streamed.state.duplicates, ...applied },
      sha256: streamed.sha256,
      format: streamed.format,
      dataVersion,
      durationMs: Math.round(performance.now() - started),
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
