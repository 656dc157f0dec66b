// The record, by the staged way: any load but a first one. The file's kept lines stream into staging tables
// (its rejects into refresh_rejects), then set-based SQL applies them (apply-sql.ts), inside the load's
// transaction: names, products and customers upserted, lines classified against what is stored, only the
// changed ones written, and for a replace what the file no longer has deleted.
import type { PoolClient } from 'pg';
import { copyRows, copyValue } from '../../db/copy.js';
import type { LoadMode } from '../3-rows/counts.js';
import type { FileState } from '../3-rows/file-state.js';
import type { SaleLine } from '../3-rows/validate-line.js';
import { type Statement, step } from '../steps.js';
import type { StreamedFile, StreamOptions } from '../stream-rows.js';
import * as apply from './apply-sql.js';
import { analyzeTables, FACT_TABLES } from './fresh-load.js';
import { LineSink, lineFigures } from './line-sink.js';
import { rowsWritten, STALE_SHARE, TableStatistics } from './statistics.js';

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

export async function stageDimensions(client: PoolClient, state: FileState): Promise<void> {
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
 * A load that changes more than this share of the stored lines does not record the orders it changes: its
 * snapshot is built whole, as an increment would make most of it again.
 */
const RECORDED_SHARE = 0.5;

/**
 * Applies the staged file: dimensions, orders, order lines. Returns the counts and, unless the change is too
 * large to be worth it, how many orders it changed, recorded in version_orders for the snapshot.
 */
export async function applyStaged(exec: Statement, state: FileState, mode: LoadMode, signal?: AbortSignal) {
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
  await upsertFacts(exec, statistics);
  // A replace also changes the stored lines that the file does not have, as far as the statistics tell
  // before they are deleted.
  const absent = mode === 'replace' ? Math.max(0, stored - counts.unchanged - counts.updated) : 0;
  const recorded = counts.inserted + counts.updated + absent <= RECORDED_SHARE * stored;
  let changedOrders = recorded ? ((await exec('record changed orders', apply.RECORD_CHANGED_ORDERS)).rowCount ?? 0) : null;
  if (mode === 'replace') {
    if (changedOrders !== null) {
      const deletion = (await exec('delete absent lines', apply.DELETE_ABSENT_LINES_RECORDED)).rows[0];
      counts.deleted = deletion.deleted;
      changedOrders += deletion.recorded;
    } else {
      counts.deleted = (await exec('delete absent lines', apply.DELETE_ABSENT_LINES)).rowCount ?? 0;
    }
    await exec('delete orphans', apply.DELETE_ORPHANS);
  }
  // The build reads the changed orders' lines by them: a join planned on how many there are.
  if (changedOrders) await exec('analyze changed orders', apply.ANALYZE_CHANGED_ORDERS);
  // A load that changes many of the stored lines leaves the statistics of what it changed, as autovacuum
  // would: it may be off, and it would run after the commit, when the next load has been planned.
  const changed = counts.inserted + counts.updated + counts.deleted;
  if (changed > STALE_SHARE * stored) await exec('analyze', analyzeTables(FACT_TABLES));
  const onlyAdded = counts.updated === 0 && counts.deleted === 0;
  return { counts, changes: changedOrders === null ? null : { orders: changedOrders, onlyAdded } };
}

/** Streams the file into the staging tables. */
export function stageFile(client: PoolClient, file: string, options: StreamOptions & { runId: number }): Promise<StreamedFile> {
  return step(options, 'stream file into staging', () => new StagingSink(client, options.runId).stream(file, options));
}
