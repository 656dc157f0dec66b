// What the analyses share: parameter numbering, rounding at the edge, the name filters, and the product
// sales of a range (signed parts of it from the yearly, monthly and daily product rollups).
import type { Queryable } from './queryable.js';
import type { Range } from './range.js';
import { addDays, signedParts } from './range.js';

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

/** Money: exact until here, then rounded half away from zero to cents, as a JSON number (quotients: exact.ts). */
export const money = (expression: string) => `round(${expression}, 2)::float8`;
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
 * A range cut for the customer rollups, whose first and last order days cannot be taken out of a sum: a
 * condition on `year` for the whole years, and on a sale date column for the other days (absent when the
 * range has no such part).
 */
export interface RangeGrains {
  years?: string;
  days?: (column: string) => string;
}

export function rangeGrains(params: SqlParams, range: { from: string; to: string }): RangeGrains {
  const afterTo = addDays(range.to, 1);
  const fromYear = Number(range.from.slice(0, 4)) + (range.from.endsWith('-01-01') ? 0 : 1);
  const toYear = Number(afterTo.slice(0, -6)); // whole years [fromYear, toYear)
  const during = (from: string, to: string) => {
    const [first, end] = [params.add(from), params.add(to)];
    return (column: string) => `(${column} >= ${first} AND ${column} < ${end})`;
  };
  if (fromYear >= toYear) return { days: during(range.from, afterTo) };
  const [yearsFrom, yearsTo] = [`${fromYear}-01-01`, `${toYear}-01-01`];
  const edges = [
    ...(range.from < yearsFrom ? [during(range.from, yearsFrom)] : []),
    ...(afterTo !== yearsTo ? [during(yearsTo, afterTo)] : []),
  ];
  return {
    years: during(yearsFrom, yearsTo)('year'),
    days: edges.length === 0 ? undefined : (column) => `(${edges.map((edge) => edge(column)).join(' OR ')})`,
  };
}

/** The product rollups' measures; `lines` counts the lines, so that a group whose parts net out is seen empty. */
const MEASURES = ['lines', 'quantity', 'revenue', 'costed_revenue', 'cost'];

/** Each grain's product rollup, with and without a region. */
const PRODUCT_TABLES = {
  year: { regional: 'sales_by_year_product_region', national: 'sales_by_year_product', column: 'year' },
  month: { regional: 'sales_by_month_product_region', national: 'sales_by_month_product_region', column: 'month' },
  day: { regional: 'sales_by_day_product_region', national: 'sales_by_day_product_region', column: 'sale_date' },
} as const;

/**
 * Rows (product_id, region_id, lines, quantity, revenue, costed_revenue, cost) that sum to the range's figures
 * per product (and region): the signed parts of the range (range.ts) from the yearly, monthly and daily
 * rollups, none of them the order lines. Sum them and keep the groups whose `lines` are above 0: a part taken
 * out can leave a product with nothing. region_id is null where the answer needs no region (neither a region
 * filter nor `byRegion`): the region-less yearly table is smaller.
 */
export function productSales(
  params: SqlParams,
  range: { from: string; to: string },
  options: { region?: string; byRegion?: boolean },
): string {
  const regional = options.region !== undefined || options.byRegion === true;
  const parts = signedParts(range.from, range.to).map(({ grain, from, to, sign }) => {
    const { column, ...tables } = PRODUCT_TABLES[grain];
    const table = regional ? tables.regional : tables.national;
    const measures = MEASURES.map((m) => (sign === 1 ? m : `-${m}`)).join(', ');
    const inRegion = nameFilter(params, 'region_id', 'regions', options.region);
    return `SELECT product_id, ${regional ? 'region_id' : 'NULL::integer'}, ${measures} FROM ${table}
       WHERE ${column} >= ${params.add(from)} AND ${column} < ${params.add(to)} AND ${inRegion}`;
  });
  return `(${parts.join('\nUNION ALL\n')}) AS s (product_id, region_id, ${MEASURES.join(', ')})`;
}

/** Keeps the product groups with lines in the range (see productSales). */
export const HAS_LINES = 'HAVING sum(s.lines) > 0';

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
