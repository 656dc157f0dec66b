// The product analyses: revenue by product (paginated), top-N products overall, per category and per
// region. All read the product sales of the range (sql.ts: signed parts from the product rollups).

import type { Queryable } from './queryable.js';
import { effectiveRange, type Range, type RangeQuery, splitByMonth, splitByYear } from './range.js';
import {
  BYTE_ORDER,
  HAS_LINES,
  hasRange,
  money,
  nameFilter,
  type Page,
  pageQuery,
  productSales,
  SqlParams,
  withoutTotals,
} from './sql.js';

export interface ProductRevenue {
  productId: string;
  productName: string;
  category: string;
  revenue: number;
  quantity: number;
}

type Filters = { category?: string; region?: string };

/** Per product (and region, when `byRegion`): exact sums, filtered by category and region. */
export function perProduct(params: SqlParams, range: { from: string; to: string }, filters: Filters, byRegion = false): string {
  return `
    SELECT s.product_id, ${byRegion ? 's.region_id,' : ''} sum(s.quantity) AS quantity, sum(s.revenue) AS revenue
    FROM ${productSales(params, range, { region: filters.region, byRegion })}
    GROUP BY s.product_id ${byRegion ? ', s.region_id' : ''} ${HAS_LINES}`;
}

export const PRODUCT_COLUMNS = `p.code AS "productId", p.name AS "productName", c.name AS category`;

export async function revenueByProduct(
  db: Queryable,
  query: RangeQuery & Filters & Page,
): Promise<Range & { items: ProductRevenue[] } & Page & { total: number }> {
  const range = await effectiveRange(db, query);
  const page = { limit: query.limit, offset: query.offset };
  if (!hasRange(range)) return { ...range, items: [], ...page, total: 0 };
  const { rows, first } = await pageQuery<ProductRevenue & { total: number }>(
    db,
    page,
    (params, limit, offset) =>
      `SELECT ${PRODUCT_COLUMNS}, ${money('t.revenue')} AS revenue, t.quantity::bigint AS quantity, count(*) OVER () AS total
       FROM (${perProduct(params, range, query)}) t
       JOIN products p USING (product_id) JOIN categories c USING (category_id)
       WHERE ${nameFilter(params, 'p.category_id', 'categories', query.category)}
       ORDER BY t.revenue DESC, p.code ${BYTE_ORDER}
       LIMIT ${limit} OFFSET ${offset}`,
  );
  return { ...range, items: withoutTotals(rows, 'total'), ...page, total: first?.total ?? 0 };
}

export interface RankedProduct {
  rank: number;
  productId: string;
  productName: string;
  category: string;
  quantity: number;
  revenue: number;
}

/** quantity desc, revenue desc (exact), code in byte order. */
const TOP_ORDER = `t.quantity DESC, t.revenue DESC, p.code ${BYTE_ORDER}`;

export async function topProducts(
  db: Queryable,
  query: RangeQuery & Filters & { n: number },
): Promise<Range & { items: RankedProduct[] }> {
  const range = await effectiveRange(db, query);
  if (!hasRange(range)) return { ...range, items: [] };
  const params = new SqlParams();
  const { rows } = await db.query<RankedProduct>(
    `SELECT row_number() OVER (ORDER BY ${TOP_ORDER})::integer AS rank, ${PRODUCT_COLUMNS},
            t.quantity::bigint AS quantity, ${money('t.revenue')} AS revenue
     FROM (${perProduct(params, range, query)}) t
     JOIN products p USING (product_id) JOIN categories c USING (category_id)
     WHERE ${nameFilter(params, 'p.category_id', 'categories', query.category)}
     ORDER BY ${TOP_ORDER}
     LIMIT ${params.add(query.n)}`,
    params.values,
  );
  return { ...range, items: rows };
}

export async function topProductsByCategory(
  db: Queryable,
  query: RangeQuery & { region?: string; n: number },
): Promise<Range & { groups: { category: string; items: RankedProduct[] }[] }> {
  const range = await effectiveRange(db, query);
  if (!hasRange(range)) return { ...range, groups: [] };
  const params = new SqlParams();
  const { rows } = await db.query<RankedProduct & { group: string }>(
    `SELECT * FROM (
       SELECT c.name AS group, row_number() OVER (PARTITION BY c.category_id ORDER BY ${TOP_ORDER})::integer AS rank,
              ${PRODUCT_COLUMNS}, t.quantity::bigint AS quantity, ${money('t.revenue')} AS revenue
       FROM (${perProduct(params, range, query)}) t
       JOIN products p USING (product_id) JOIN categories c USING (category_id)
     ) ranked
     WHERE rank <= ${params.add(query.n)}
     ORDER BY "group" ${BYTE_ORDER}, rank`,
    params.values,
  );
  return { ...range, groups: grouped(rows).map(([category, items]) => ({ category, items })) };
}

/**
 * Over whole calendar years and without a category filter, each region's candidates can be read in units
 * order straight from an index: for one year from the yearly rollup, for years from the first year of the
 * data from the running totals. Answers the source table and year to read, or undefined for the general way.
 */
async function unitsOrderedSource(
  db: Queryable,
  range: { from: string; to: string },
  category: string | undefined,
): Promise<{ table: string; year: string } | undefined> {
  if (category !== undefined) return undefined;
  const days = splitByMonth(range.from, range.to);
  const { yearsFrom, yearsTo, months } = splitByYear(days.monthsFrom, days.monthsTo);
  if (days.edges.length > 0 || months.length > 0 || yearsFrom >= yearsTo) return undefined;
  const lastYear = `${Number(yearsTo.slice(0, 4)) - 1}-01-01`;
  if (yearsFrom === lastYear) return { table: 'sales_by_year_product_region', year: lastYear };
  const { rows } = await db.query<{ first: string | null; last: string | null }>(
    `SELECT min(year) AS first, max(year) FILTER (WHERE year <= $1) AS last FROM sales_through_year_product_region`,
    [lastYear],
  );
  const { first, last } = rows[0];
  if (first === null || last === null || yearsFrom > first) return undefined;
  return { table: 'sales_through_year_product_region', year: last };
}

/** Per region, the products whose units reach its n-th best (ties included), with units and revenue. */
async function regionCandidates(
  db: Queryable,
  params: SqlParams,
  range: { from: string; to: string },
  query: { category?: string; n: number },
  n: string,
): Promise<string> {
  const ordered = await unitsOrderedSource(db, range, query.category);
  if (ordered) {
    return `
      SELECT product_id, region_id, quantity, revenue
      FROM (
        SELECT product_id, region_id, quantity, revenue, rank() OVER (PARTITION BY region_id ORDER BY quantity DESC) AS place
        FROM ${ordered.table} WHERE year = ${params.add(ordered.year)} AND quantity > 0
      ) c
      WHERE place <= ${n}`;
  }
  // The general way: units per product and region first (rank() gives the products tied at the n-th place the
  // same rank), then revenue, the costly exact sum, for those candidates alone.
  const inCategory =
    query.category === undefined
      ? ''
      : `JOIN products p USING (product_id) WHERE ${nameFilter(params, 'p.category_id', 'categories', query.category)}`;
  return `
    WITH units AS (
      SELECT s.product_id, s.region_id, sum(s.quantity)::bigint AS quantity
      FROM ${productSales(params, range, { byRegion: true })} ${inCategory}
      GROUP BY s.product_id, s.region_id ${HAS_LINES}
    ),
    candidates AS (
      SELECT product_id, region_id
      FROM (SELECT product_id, region_id, rank() OVER (PARTITION BY region_id ORDER BY quantity DESC) AS units_rank FROM units) u
      WHERE units_rank <= ${n}
    )
    SELECT s.product_id, s.region_id, sum(s.quantity) AS quantity, sum(s.revenue) AS revenue
    FROM ${productSales(params, range, { byRegion: true })}
    WHERE (s.product_id, s.region_id) IN (SELECT product_id, region_id FROM candidates)
    GROUP BY s.product_id, s.region_id`;
}

export async function topProductsByRegion(
  db: Queryable,
  query: RangeQuery & { category?: string; n: number },
): Promise<Range & { groups: { region: string; items: RankedProduct[] }[] }> {
  const range = await effectiveRange(db, query);
  if (!hasRange(range)) return { ...range, groups: [] };
  const params = new SqlParams();
  const n = params.add(query.n);
  const candidates = await regionCandidates(db, params, range, query, n);
  const { rows } = await db.query<RankedProduct & { group: string }>(
    `SELECT * FROM (
       SELECT r.name AS group, row_number() OVER (PARTITION BY t.region_id ORDER BY ${TOP_ORDER})::integer AS rank,
              ${PRODUCT_COLUMNS}, t.quantity::bigint AS quantity, ${money('t.revenue')} AS revenue
       FROM (${candidates}) t
       JOIN products p USING (product_id) JOIN categories c USING (category_id) JOIN regions r USING (region_id)
     ) ranked
     WHERE rank <= ${n}
     ORDER BY "group" ${BYTE_ORDER}, rank`,
    params.values,
  );
  return { ...range, groups: grouped(rows).map(([region, items]) => ({ region, items })) };
}

/** Rows ordered by group, split into [group, items without the group column]. */
function grouped(rows: (RankedProduct & { group: string })[]): [string, RankedProduct[]][] {
  const groups = new Map<string, RankedProduct[]>();
  for (const { group, ...item } of rows) {
    const items = groups.get(group) ?? [];
    items.push(item);
    groups.set(group, items);
  }
  return [...groups];
}
