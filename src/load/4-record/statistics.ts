// The planner's statistics of the stored tables, kept true for each set-based step of a load.
// A load can change a table by more than the table held (a replace of a six-line store by a 1M-line file):
// planned on the statistics from before, a step that joins that table with the file's lines takes a nested
// loop over them, quadratic in the file's size. Autovacuum cannot help, the rows being the load's own until it
// commits; so the load ANALYZEs a table inside its transaction, before the next step reads it, whenever it
// has written more of it than a tenth of what the planner believed it held. ANALYZE reads a sample of fixed
// size (30,000 rows at the default statistics target): well under a second at 10M lines.
import type { Statement } from '../steps.js';

/** The stored tables the load's steps read, each with the staging table whose rows a load brings to it. */
export const STORED_TABLES = {
  products: 'stage_products',
  customers: 'stage_customers',
  orders: 'stage_orders',
  order_items: 'stage_lines',
} as const;

export type StoredTable = keyof typeof STORED_TABLES;

/**
 * Rows written beyond this share of the planner's estimate of a table make that estimate stale (the share at
 * which autovacuum would analyze it: autovacuum_analyze_scale_factor's default); so does an estimate below
 * this share of the file's rows for the table.
 */
export const STALE_SHARE = 0.1;

/**
 * The planner's own estimate of a table's rows now: its last statistics scaled to the table's current size
 * (what every plan starts from; a table never analyzed is estimated from its pages).
 */
async function plannedRows(exec: Statement, table: string): Promise<number> {
  const { rows } = await exec(`estimate ${table}`, `EXPLAIN (FORMAT JSON) SELECT FROM ${table}`);
  return rows[0]['QUERY PLAN'][0].Plan['Plan Rows'] as number;
}

/** What the planner believes of the stored tables during one load, refreshed where the load makes it wrong. */
export class TableStatistics {
  private readonly estimates = new Map<string, number>();

  constructor(private readonly exec: Statement) {}

  /** The planner's estimate of a table, as of the last check. */
  async estimate(table: string): Promise<number> {
    let rows = this.estimates.get(table);
    if (rows === undefined) {
      rows = await plannedRows(this.exec, table);
      this.estimates.set(table, rows);
    }
    return rows;
  }

  /**
   * Before the first step that joins the file with the store (the staging tables analyzed): a table that the
   * planner believes smaller than a tenth of the file's rows for it is analyzed, so that no step meets a
   * large file with a store planned as a handful of rows (statistics from elsewhere, or left by a load that
   * rolled back: ANALYZE updates a table's row count in place, outside the transaction). A daily refresh,
   * whose store is about its file's size, finds the statistics the last load left: nothing to do.
   */
  async checkBesideFile(): Promise<void> {
    for (const [table, staging] of Object.entries(STORED_TABLES) as [StoredTable, string][]) {
      const fileRows = await plannedRows(this.exec, staging);
      if (STALE_SHARE * fileRows > (await this.estimate(table))) await this.analyze(table);
    }
  }

  /** After a step wrote `written` rows of a table: analyzed before the next step reads it, where that is many. */
  async wrote(table: string, written: number): Promise<void> {
    if (written > STALE_SHARE * (await this.estimate(table))) await this.analyze(table);
  }

  private async analyze(table: string): Promise<void> {
    await this.exec(`analyze ${table}`, `ANALYZE ${table}`);
    this.estimates.set(table, await plannedRows(this.exec, table));
  }
}

type Outcome = { command: string; rowCount: number | null };
const WRITES = new Set(['INSERT', 'UPDATE', 'DELETE']);

/** The rows a step inserted, updated or deleted, over each statement of a multi-statement query. */
export function rowsWritten(result: Outcome | Outcome[]): number {
  const outcomes = Array.isArray(result) ? result : [result];
  return outcomes.reduce((total, r) => total + (WRITES.has(r.command) ? (r.rowCount ?? 0) : 0), 0);
}
