// The loader, a library first: the CLI, the refresh job and the API upload all call loadSales().
// Streams a file through parse -> validate -> in-file bookkeeping -> COPY into staging, then applies it with
// set-based SQL in ONE transaction: readers see the old data until the commit, and a failure changes nothing.
import type { Pool, PoolClient, QueryResult } from 'pg';
import type { Logger } from 'pino';
import { CopyWriter, copyTextArray, copyValue } from '../db/copy.js';
import * as apply from './apply-sql.js';
import { type ColumnMap, InputFormatError, mapColumns } from './columns.js';
import { fileRollups, type RollupIds } from './file-rollups.js';
import { FileState } from './file-state.js';
import { applyDelta, applyNetChange, deltaTable, ROLLUP_TABLES, type Rollup, rebuildStatement } from './rollup-sql.js';
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
  /** Receives each step's duration at debug level. */
  logger?: Logger;
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

/** Runs one step of the load, logging how long it took: the first place to look when a load is slow. */
async function step<T>(options: LoadOptions, name: string, action: () => Promise<T>): Promise<T> {
  const started = performance.now();
  const result = await action();
  options.logger?.debug({ step: name, ms: Math.round(performance.now() - started) }, 'load step');
  return result;
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
    state.orders(),
    ([code, o]) => `${v(code)}\t${v(o.customerCode)}\t${v(o.region)}\t${v(o.paymentMethod)}\t${o.saleDate}\n`,
  );
  await copyRows(client, apply.COPY_PRODUCTS, state.products(), ([code, p]) => `${v(code)}\t${v(p.name)}\t${v(p.category)}\n`);
  await copyRows(
    client,
    apply.COPY_CUSTOMERS,
    state.customers(),
    ([code, c]) => `${v(code)}\t${v(c.name)}\t${v(c.email)}\t${v(c.address)}\n`,
  );
}

type Statement = (name: string, sql: string, params?: unknown[]) => Promise<QueryResult>;

/** Runs the load's statements on its client, timing each one. */
function statements(client: PoolClient, options: LoadOptions): Statement {
  return (name, sql, params) => step(options, name, () => client.query(sql, params));
}

/** Before an append changes its orders: their lines' old contributions, and the parts of rollups it recomputes. */
async function takeOutTouched(exec: Statement, skip: Set<string>): Promise<void> {
  await exec('copy touched lines before the change', apply.COPY_OLD_FACTS);
  for (const rollup of Object.values(ROLLUP_TABLES) as Rollup[]) {
    if (skip.has(rollup.table) || rollup.kind === 'net') continue;
    if (rollup.kind === 'recompute') {
      if (rollup.remove) await exec(`remove touched rows of ${rollup.table}`, rollup.remove);
      continue;
    }
    const delta = deltaTable(rollup.table);
    await exec(`create ${delta}`, `CREATE TEMP TABLE ${delta} (LIKE ${rollup.table}) ON COMMIT DROP`);
    await exec(`old contributions to ${rollup.table}`, rollup.contribution('touched'), [-1]);
  }
}

/** After: the new contributions, one net upsert per additive rollup; recomputed tables get their rows again. */
async function putBackTouched(exec: Statement, skip: Set<string>): Promise<void> {
  await exec('copy touched lines after the change', apply.COPY_NEW_FACTS);
  for (const rollup of Object.values(ROLLUP_TABLES) as Rollup[]) {
    if (skip.has(rollup.table)) continue;
    if (rollup.kind === 'recompute') {
      await exec(`recompute touched rows of ${rollup.table}`, rollup.contribution('touched'), [1]);
      continue;
    }
    if (rollup.kind === 'net') {
      await exec(`apply net change to ${rollup.table}`, applyNetChange(rollup));
    } else {
      await exec(`new contributions to ${rollup.table}`, rollup.contribution('touched'), [1]);
      await exec(`apply net change to ${rollup.table}`, applyDelta(rollup));
    }
    await exec(`drop empty rows of ${rollup.table}`, `DELETE FROM ${rollup.table} WHERE ${rollup.measures[0]} = 0`);
  }
}

async function rebuildRollup(exec: Statement, rollup: Rollup): Promise<void> {
  await exec(`empty ${rollup.table}`, `DELETE FROM ${rollup.table}`);
  const [sql, params] = rebuildStatement(rollup);
  await exec(`rebuild ${rollup.table}`, sql, params);
}

/** The tables a load into an empty database fills without keys or indexes, creating them afterwards. */
const BULK_TABLES = ['orders', 'order_items', ...Object.values(ROLLUP_TABLES).map((rollup) => rollup.table)];

/**
 * Takes every bulk table's exclusive lock at once, or none when a reader holds one of them: waiting for it
 * while holding the others could deadlock with that reader's next statement. Without the locks the rows go
 * into the tables with their keys and indexes in place (slower, same result).
 */
async function lockBulkTables(exec: Statement): Promise<boolean> {
  await exec('savepoint before locking', 'SAVEPOINT bulk_lock');
  try {
    await exec('lock bulk tables', `LOCK TABLE ${BULK_TABLES.join(', ')} IN ACCESS EXCLUSIVE MODE NOWAIT`);
    return true;
  } catch (error) {
    if ((error as { code?: string }).code !== LOCK_NOT_AVAILABLE) throw error;
    await exec('rollback to savepoint', 'ROLLBACK TO SAVEPOINT bulk_lock');
    return false;
  }
}

const LOCK_NOT_AVAILABLE = '55P03';

/** The database ids of the file's products, customers, regions and categories, by their FileState indexes. */
async function idsOfFile(client: PoolClient, state: FileState): Promise<RollupIds> {
  const ids = async (sql: string, names: Iterable<string>, count: number) => {
    const { rows } = await client.query<[string, number]>({ text: sql, rowMode: 'array' });
    const byName = new Map(rows);
    const result = new Int32Array(count);
    let index = 0;
    for (const name of names) result[index++] = byName.get(name)!;
    return result;
  };
  const codes = function* (entries: Iterable<[string, unknown]>) {
    for (const [code] of entries) yield code;
  };
  return {
    product: await ids(apply.PRODUCT_IDS, codes(state.products()), state.productCount),
    customer: await ids(apply.CUSTOMER_IDS, codes(state.customers()), state.customerCount),
    region: await ids(apply.REGION_IDS, state.regions.names, state.regions.names.length),
    category: await ids(apply.CATEGORY_IDS, state.categories.names, state.categories.names.length),
  };
}

/**
 * The rollups of a load into an empty database: summed from the file on this side and copied in, or, when
 * the figures cannot be summed exactly here, rebuilt from the tables by the database.
 */
async function buildRollupsOfFile(client: PoolClient, exec: Statement, state: FileState, options: LoadOptions): Promise<void> {
  const ids = await step(options, 'read ids of the file', () => idsOfFile(client, state));
  const rollups = await step(options, 'sum rollups of the file', async () => fileRollups(state, ids));
  if (rollups === undefined) {
    options.logger?.debug('figures beyond exact double sums: rollups rebuilt by the database');
    for (const rollup of Object.values(ROLLUP_TABLES)) await rebuildRollup(exec, rollup);
    return;
  }
  for (const { table, columns, chunks } of rollups) {
    await step(options, `copy ${table}`, async () => {
      const copy = new CopyWriter(client, `COPY ${table} (${columns}) FROM STDIN`);
      for (const chunk of chunks()) await copy.write(chunk);
      await copy.end();
    });
  }
}

/** Applies the staged file: dimensions, orders, order lines, rollups, data version. Returns the counts. */
async function applyStaged(client: PoolClient, exec: Statement, state: FileState, options: LoadOptions) {
  const { empty } = (await exec('check for data', apply.HOLDS_NO_SALES)).rows[0] as { empty: boolean };
  await exec('save rejects', apply.SAVE_REJECTS, [options.runId]);
  await exec('keep winning lines', apply.KEEP_WINNING_LINES, [state.supersededLines]);
  await exec('analyze staging', apply.ANALYZE_STAGING);
  await exec('upsert dimensions', apply.UPSERT_DIMENSIONS);
  const categoryChanges = (await exec('count category changes', apply.COUNT_CATEGORY_CHANGES)).rows[0].changed as number;
  await exec('upsert products', apply.UPSERT_PRODUCTS);
  await exec('upsert customers', apply.UPSERT_CUSTOMERS);
  await exec('resolve incoming orders', apply.RESOLVE_INCOMING_ORDERS);
  options.signal?.throwIfAborted();

  let counts: { inserted: number; updated: number; unchanged: number; deleted: number };
  if (empty) {
    // Into an empty database every line is new: insert in bulk and build the rollups in one pass.
    const keys = (await lockBulkTables(exec))
      ? (await exec('read keys and indexes', apply.KEYS_AND_INDEXES, [BULK_TABLES])).rows
      : [];
    for (const key of keys) await exec(key.drop_statement, key.drop_statement);
    const orders = await exec('insert orders', apply.INSERT_ORDERS);
    const lines = await exec('insert order items', apply.INSERT_ORDER_ITEMS);
    await buildRollupsOfFile(client, exec, state, options);
    for (const key of keys.reverse()) await exec(key.create_statement, key.create_statement);
    await exec('analyze orders and order items', apply.ANALYZE_FACTS);
    if (options.mode === 'replace') await exec('delete orphans', apply.DELETE_ORPHANS);
    counts = { inserted: lines.rowCount ?? 0, updated: 0, unchanged: 0, deleted: 0 };
    options.logger?.debug({ orders: orders.rowCount }, 'bulk insert into an empty database');
  } else {
    await exec('classify lines', apply.CLASSIFY_LINES);
    const classified = (await exec('count line changes', apply.COUNT_LINE_CHANGES)).rows[0] as Record<string, number>;
    counts = { inserted: classified.inserted, updated: classified.updated, unchanged: classified.unchanged, deleted: 0 };
    if (options.mode === 'append') {
      // A product that changed category moves its whole history: rebuild the category rollup instead.
      const skip = new Set<string>(categoryChanges > 0 ? [ROLLUP_TABLES.category.table] : []);
      await exec('collect touched orders', apply.COLLECT_TOUCHED);
      await takeOutTouched(exec, skip);
      await exec('upsert orders', apply.UPSERT_ORDERS);
      await exec('upsert order items', apply.UPSERT_ORDER_ITEMS);
      await putBackTouched(exec, skip);
      if (categoryChanges > 0) await rebuildRollup(exec, ROLLUP_TABLES.category);
    } else {
      await exec('upsert orders', apply.UPSERT_ORDERS);
      await exec('upsert order items', apply.UPSERT_ORDER_ITEMS);
      counts.deleted = (await exec('delete absent lines', apply.DELETE_ABSENT_LINES)).rowCount ?? 0;
      await exec('delete orphans', apply.DELETE_ORPHANS);
      for (const rollup of Object.values(ROLLUP_TABLES)) await rebuildRollup(exec, rollup);
    }
  }
  const dataVersion = Number((await exec('bump data version', apply.BUMP_DATA_VERSION)).rows[0].version);
  return { ...counts, dataVersion };
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
    // A load sorts, hashes and aggregates whole files: give this transaction (only) the memory to do it in RAM.
    await client.query(`SET LOCAL work_mem = '256MB'; SET LOCAL maintenance_work_mem = '512MB'`);
    await client.query(apply.CREATE_STAGING);
    const staged = await step(options, 'stream file into staging', () => stageFile(client, file, options));
    await step(options, 'stage orders, products, customers', () => stageDimensions(client, staged.state));
    const applied = await applyStaged(client, statements(client, options), staged.state, options);
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
