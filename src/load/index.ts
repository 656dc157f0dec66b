// The loader, a library first: the CLI, the refresh job and the API upload all call loadSales().
// Streams a file through parse -> validate -> in-file bookkeeping -> COPY into staging, then applies it with
// set-based SQL in ONE transaction: readers see the old data until the commit, and a failure changes nothing.
import type { Pool, PoolClient } from 'pg';
import { CopyWriter, copyTextArray, copyValue } from '../db/copy.js';
import * as apply from './apply-sql.js';
import { type ColumnMap, InputFormatError, mapColumns } from './columns.js';
import { FileState } from './file-state.js';
import { ROLLUP_TABLES, type RollupScope } from './rollup-sql.js';
import { openRecordSource, type SourceFormat } from './source.js';
import { localDay, type SaleLine, validateLine } from './validate-line.js';

export { InputFormatError } from './columns.js';

export type LoadMode = 'append' | 'replace';

export interface LoadProgress {
  bytesRead: number;
  bytesTotal: number;
  rowsRead: number;
}

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
  onProgress?: (progress: LoadProgress) => void;
  /** Aborting rolls the load back. */
  signal?: AbortSignal;
}

/** Another load holds the lock; nothing was changed. */
export class LoadBusyError extends Error {
  override name = 'LoadBusyError';
}

/** One load at a time across every process sharing the database (transaction-scoped advisory lock). */
export const LOAD_LOCK_KEY = 7_304_112_001;

function lineRow(line: number, row: SaleLine): string {
  return `${line}\t\\N\t\\N\t${copyValue(row.orderCode)}\t${copyValue(row.productCode)}\t${row.quantity}\t${row.unitPrice}\t${
    row.discount
  }\t${row.shippingCost}\t${row.unitCost ?? '\\N'}\t${row.attributes ? copyValue(JSON.stringify(row.attributes)) : '\\N'}\n`;
}

function rejectRow(line: number, reasons: string[], raw: string): string {
  return `${line}\t${copyTextArray(reasons)}\t${copyValue(raw.replaceAll('\0', ''))}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n`;
}

/** Streams the file into stage_rows; returns what the file said across its rows. */
async function stageFile(client: PoolClient, file: string, options: LoadOptions) {
  const source = await openRecordSource(file, options.format);
  const today = options.today ?? localDay();
  const state = new FileState();
  let columns: ColumnMap | undefined;
  let read = 0;
  let rejected = 0;
  const copy = new CopyWriter(client, apply.COPY_ROWS);
  try {
    for await (const batch of source.batches) {
      options.signal?.throwIfAborted();
      let text = '';
      for (const record of batch) {
        if (columns === undefined) {
          columns = mapColumns(record.fields);
          continue;
        }
        read++;
        let reasons: string[];
        if (record.error) {
          reasons = [record.error];
        } else {
          const result = validateLine(record.fields, columns, today, record.extra);
          if (result.ok) {
            const verdict = state.accept(result.line, record.line);
            if (verdict.accepted) {
              text += lineRow(record.line, result.line);
              continue;
            }
            reasons = verdict.reasons;
          } else {
            reasons = result.reasons;
          }
        }
        rejected++;
        text += rejectRow(record.line, reasons, record.raw);
      }
      if (text) await copy.write(text);
      options.onProgress?.({ ...source.progress, rowsRead: read });
    }
    if (columns === undefined) throw new InputFormatError('the file is empty: no header');
  } finally {
    await copy.end().catch(() => {});
  }
  return { state, read, rejected, sha256: source.sha256(), format: source.format };
}

async function copyRows<T>(client: PoolClient, sql: string, entries: Iterable<T>, toRow: (entry: T) => string): Promise<void> {
  const copy = new CopyWriter(client, sql);
  let text = '';
  for (const entry of entries) {
    text += toRow(entry);
    if (text.length > 1 << 20) {
      await copy.write(text);
      text = '';
    }
  }
  if (text) await copy.write(text);
  await copy.end();
}

async function stageDimensions(client: PoolClient, state: FileState): Promise<void> {
  const v = copyValue;
  await copyRows(
    client,
    apply.COPY_ORDERS,
    state.orders,
    ([code, o]) => `${v(code)}\t${v(o.customerCode)}\t${v(o.region)}\t${v(o.paymentMethod)}\t${o.saleDate}\n`,
  );
  await copyRows(client, apply.COPY_PRODUCTS, state.products, ([code, p]) => `${v(code)}\t${v(p.name)}\t${v(p.category)}\n`);
  await copyRows(
    client,
    apply.COPY_CUSTOMERS,
    state.customers,
    ([code, c]) => `${v(code)}\t${v(c.name)}\t${v(c.email)}\t${v(c.address)}\n`,
  );
}

async function updateRollups(client: PoolClient, sign: 1 | -1, scope: RollupScope, skip: Set<string>): Promise<void> {
  for (const { table, contribution } of Object.values(ROLLUP_TABLES)) {
    if (!skip.has(table)) await client.query(contribution(scope), [sign]);
  }
}

async function rebuildRollup(client: PoolClient, rollup: (typeof ROLLUP_TABLES)[keyof typeof ROLLUP_TABLES]): Promise<void> {
  await client.query(`DELETE FROM ${rollup.table}`);
  await client.query(rollup.contribution('all'), [1]);
}

/** Applies the staged file: dimensions, orders, order lines, rollups, data version. Returns the counts. */
async function applyStaged(client: PoolClient, state: FileState, options: LoadOptions) {
  await client.query(apply.SAVE_REJECTS, [options.runId]);
  await client.query(apply.KEEP_WINNING_LINES, [state.supersededLines]);
  await client.query(apply.ANALYZE_STAGING);
  await client.query(apply.UPSERT_DIMENSIONS);
  const categoryChanges = (await client.query(apply.COUNT_CATEGORY_CHANGES)).rows[0].changed as number;
  await client.query(apply.UPSERT_PRODUCTS);
  await client.query(apply.UPSERT_CUSTOMERS);
  await client.query(apply.RESOLVE_INCOMING_ORDERS);
  await client.query(apply.CLASSIFY_LINES);
  const { inserted, updated, unchanged } = (await client.query(apply.COUNT_LINE_CHANGES)).rows[0] as Record<string, number>;
  options.signal?.throwIfAborted();

  let deleted = 0;
  if (options.mode === 'append') {
    // A product that changed category moves its whole history: rebuild the category rollup instead.
    const skip = new Set<string>(categoryChanges > 0 ? [ROLLUP_TABLES.category.table] : []);
    await client.query(apply.COLLECT_TOUCHED);
    await updateRollups(client, -1, 'touched', skip);
    await client.query(apply.UPSERT_ORDERS);
    await client.query(apply.UPSERT_ORDER_ITEMS);
    await updateRollups(client, 1, 'touched', skip);
    for (const { table, emptyWhen } of Object.values(ROLLUP_TABLES))
      await client.query(`DELETE FROM ${table} WHERE ${emptyWhen}`);
    if (categoryChanges > 0) await rebuildRollup(client, ROLLUP_TABLES.category);
  } else {
    await client.query(apply.UPSERT_ORDERS);
    await client.query(apply.UPSERT_ORDER_ITEMS);
    deleted = (await client.query(apply.DELETE_ABSENT_LINES)).rowCount ?? 0;
    await client.query(apply.DELETE_ORPHANS);
    for (const rollup of Object.values(ROLLUP_TABLES)) await rebuildRollup(client, rollup);
  }
  const dataVersion = Number((await client.query(apply.BUMP_DATA_VERSION)).rows[0].version);
  return { inserted, updated, unchanged, deleted, dataVersion };
}

/**
 * Loads one file (CSV, JSON array or NDJSON) in `append` or `replace` mode, atomically.
 * Throws InputFormatError for a file that cannot be read as sales (nothing changes), LoadBusyError when
 * another load is running.
 */
export async function loadSales(pool: Pool, file: string, options: LoadOptions): Promise<LoadResult> {
  const started = performance.now();
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const { rows } = await client.query('SELECT pg_try_advisory_xact_lock($1) AS locked', [LOAD_LOCK_KEY]);
    if (!rows[0].locked) throw new LoadBusyError('another load is running');
    await client.query(apply.CREATE_STAGING);
    const staged = await stageFile(client, file, options);
    await stageDimensions(client, staged.state);
    const applied = await applyStaged(client, staged.state, options);
    options.signal?.throwIfAborted();
    await client.query('COMMIT');
    return {
      counts: {
        read: staged.read,
        rejected: staged.rejected,
        duplicates: staged.state.duplicates,
        inserted: applied.inserted,
        updated: applied.updated,
        unchanged: applied.unchanged,
        deleted: applied.deleted,
      },
      sha256: staged.sha256,
      format: staged.format,
      dataVersion: applied.dataVersion,
      durationMs: Math.round(performance.now() - started),
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
