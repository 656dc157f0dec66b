// The product analyses: revenue by product (paginated), top-N products overall, per category and per
// region. All read the product sales of the range (sql.ts: monthly rollup plus the days at either end).
import { effectiveRange, type Range, type RangeQuery } from './range.js';
import {
  BYTE_ORDER,
  hasRange,
  money,
  nameFilter,
  type Page,
  pageQuery,
  productSales,
  type Queryable,
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
    GROUP BY s.product_id ${byRegion ? ', s.region_id' : ''}`;
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

export async function topProductsByRegion(
  db: Queryable,
  query: RangeQuery & { category?: string; n: number },
): Promise<Range & { groups: { region: string; items: RankedProduct[] }[] }> {
  const range = await effectiveRange(db, query);
  if (!hasRange(range)) return { ...range, groups: [] };
  const params = new SqlParams();
  const n = params.add(query.n);
  const inCategory = query.category === undefined ? 'TRUE' : nameFilter(params, 'p.category_id', 'categories', query.category);
  // Products are ranked by units first, so only those whose units reach their region's n-th best can make its
  // top n (rank() gives the products tied there the same rank): revenue, the costly exact sum, is summed for
  // those candidates alone instead of for every product in every region.
  const { rows } = await db.query<RankedProduct & { group: string }>(
    `WITH units AS (
       SELECT s.product_id, s.region_id, sum(s.quantity)::bigint AS quantity
       FROM ${productSales(params, range, { byRegion: true })}
       ${query.category === undefined ? '' : `JOIN products p USING (product_id) WHERE ${inCategory}`}
       GROUP BY s.product_id, s.region_id
     ),
     candidates AS (
       SELECT product_id, region_id
       FROM (SELECT product_id, region_id, rank() OVER (PARTITION BY region_id ORDER BY quantity DESC) AS units_rank FROM units) u
       WHERE units_rank <= ${n}
     ),
     t AS (
       SELECT s.product_id, s.region_id, sum(s.quantity) AS quantity, sum(s.revenue) AS revenue
       FROM ${productSales(params, range, { byRegion: true })}
       WHERE (s.product_id, s.region_id) IN (SELECT product_id, region_id FROM candidates)
       GROUP BY s.product_id, s.region_id
     )
     SELECT * FROM (
       SELECT r.name AS group, row_number() OVER (PARTITION BY t.region_id ORDER BY ${TOP_ORDER})::integer AS rank,
              ${PRODUCT_COLUMNS}, t.quantity::bigint AS quantity, ${money('t.revenue')} AS revenue
       FROM t JOIN products p USING (product_id) JOIN categories c USING (category_id) JOIN regions r USING (region_id)
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
