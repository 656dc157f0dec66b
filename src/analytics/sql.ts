// What the analyses share: parameter numbering, rounding at the edge, the name filters, and the product
// sales of a range (whole months from the monthly rollup, the days at either end from the order lines).
import type { QueryResult, QueryResultRow } from 'pg';
import { LINE_FIGURES } from '../db/line-figures.js';
import type { Range } from './range.js';
import { splitByMonth, splitByYear } from './range.js';

export interface Queryable {
  query<Row extends QueryResultRow>(text: string, values?: unknown[]): Promise<QueryResult<Row>>;
}

export interface Page {
  limit: number;
  offset: number;
}

/** Collects query parameters and hands out their placeholders. */
export class SqlParams {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/** Money: exact until here, then rounded half away from zero to cents (numeric round), as a JSON number. */
export const money = (expression: string) => `round(${expression}, 2)::float8`;
/** Ratios: rounded to 4 decimals. */
export const ratio = (expression: string) => `round(${expression}, 4)::float8`;
/** Codes and names sort in plain byte order (P1000 before P999). */
export const BYTE_ORDER = 'COLLATE "C"';

export interface NameFilters {
  category?: string;
  region?: string;
}

/** `column IN (ids whose name is the filter, ignoring case)`, or TRUE without a filter. */
export function nameFilter(params: SqlParams, column: string, table: 'categories' | 'regions', name: string | undefined): string {
  if (name === undefined) return 'TRUE';
  const id = table === 'categories' ? 'category_id' : 'region_id';
  return `${column} IN (SELECT ${id} FROM ${table} WHERE lower(name) = lower(${params.add(name)}))`;
}

/** True when the range has sales days at all (an empty database has no effective range). */
export function hasRange(range: Range): range is { from: string; to: string } {
  return range.from !== null && range.to !== null && range.from <= range.to;
}

/**
 * A range cut for the rollups: a condition on `year` for the whole years, on `month` for the whole months
 * outside them, and on a sale date column for the days of the partial months at either end (absent when
 * the range has no such part).
 */
export interface RangeGrains {
  years?: string;
  months?: string;
  days?: (column: string) => string;
}

export function rangeGrains(params: SqlParams, range: { from: string; to: string }): RangeGrains {
  const split = splitByMonth(range.from, range.to);
  const { yearsFrom, yearsTo, months } = splitByYear(split.monthsFrom, split.monthsTo);
  const grains: RangeGrains = {};
  if (yearsFrom < yearsTo) grains.years = `year >= ${params.add(yearsFrom)} AND year < ${params.add(yearsTo)}`;
  if (months.length > 0) {
    grains.months = `(${months.map(([from, to]) => `(month >= ${params.add(from)} AND month < ${params.add(to)})`).join(' OR ')})`;
  }
  if (split.edges.length > 0) {
    const edges = split.edges.map(([from, to]) => [params.add(from), params.add(to)]);
    grains.days = (column) => `(${edges.map(([from, to]) => `${column} BETWEEN ${from} AND ${to}`).join(' OR ')})`;
  }
  return grains;
}

const MEASURES = 'quantity, gross, discount, revenue, shipping, costed_revenue, cost';

/**
 * Rows (product_id, region_id, quantity, gross, discount, revenue, shipping, costed_revenue, cost) that sum to
 * the range's figures per product (and region): whole years from the yearly rollups, whole months from the
 * monthly one, the days of a partial month at either end from the order lines. region_id is null where the
 * answer needs no region (neither a region filter nor `byRegion`): the region-less yearly table is smaller.
 */
export function productSales(
  params: SqlParams,
  range: { from: string; to: string },
  options: { region?: string; byRegion?: boolean },
): string {
  const { years, months, days } = rangeGrains(params, range);
  const regional = options.region !== undefined || options.byRegion === true;
  const inRegion = (column: string) => nameFilter(params, column, 'regions', options.region);
  const parts: string[] = [];
  if (years) {
    parts.push(
      regional
        ? `SELECT product_id, region_id, ${MEASURES} FROM sales_by_year_product_region WHERE ${years} AND ${inRegion('region_id')}`
        : `SELECT product_id, NULL::integer, ${MEASURES} FROM sales_by_year_product WHERE ${years}`,
    );
  }
  if (months) {
    parts.push(
      `SELECT product_id, region_id, ${MEASURES} FROM sales_by_month_product_region WHERE ${months} AND ${inRegion('region_id')}`,
    );
  }
  if (days) {
    parts.push(
      `SELECT i.product_id, o.region_id, i.quantity, i.gross, i.discount, i.revenue, i.shipping_cost,
              CASE WHEN i.unit_cost IS NULL THEN 0 ELSE i.revenue END, coalesce(i.cost, 0)
       FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
       WHERE ${days('o.sale_date')} AND ${inRegion('o.region_id')}`,
    );
  }
  return `(${parts.join('\nUNION ALL\n')}) AS s (product_id, region_id, ${MEASURES})`;
}

/**
 * A page of a query whose rows carry `count(*) OVER () AS total` (and any other whole-result columns).
 * Past the last page no row carries them, so the first row is then read on its own.
 */
export async function pageQuery<Row extends { total: number }>(
  db: Queryable,
  page: Page,
  build: (params: SqlParams, limit: string, offset: string) => string,
): Promise<{ rows: Row[]; first: Row | undefined }> {
  const run = async ({ limit, offset }: Page) => {
    const params = new SqlParams();
    const text = build(params, params.add(limit), params.add(offset));
    return (await db.query<Row>(text, params.values)).rows;
  };
  const rows = await run(page);
  const first = rows[0] ?? (page.offset > 0 ? (await run({ limit: 1, offset: 0 }))[0] : undefined);
  return { rows, first };
}

/** Drops the whole-result columns from page rows. */
export function withoutTotals<Row extends object, Key extends string>(rows: Row[], ...keys: Key[]): Omit<Row, Key>[] {
  return rows.map((row) => {
    const item = { ...row } as Record<string, unknown>;
    for (const key of keys) delete item[key];
    return item as Omit<Row, Key>;
  });
}
