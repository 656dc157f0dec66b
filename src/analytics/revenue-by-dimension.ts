// GET /api/v1/revenue/by-category and /by-region: revenue, units and orders per category or region with
// sales in the range; revenue desc, then name in byte order. Each takes the other dimension as a filter.

import type { Queryable } from './queryable.js';
import { effectiveRange, type Range, type RangeQuery } from './range.js';
import { BYTE_ORDER, hasRange, money, nameFilter, SqlParams } from './sql.js';

export interface DimensionRevenue {
  revenue: number;
  quantity: number;
  orders: number;
}

export async function revenueByCategory(
  db: Queryable,
  query: RangeQuery & { region?: string },
): Promise<Range & { items: ({ category: string } & DimensionRevenue)[] }> {
  const range = await effectiveRange(db, query);
  if (!hasRange(range)) return { ...range, items: [] };
  const params = new SqlParams();
  // An order with lines in two categories counts once in each: orders add up over days and regions only.
  const { rows } = await db.query<{ category: string } & DimensionRevenue>(
    `SELECT c.name AS category, ${money('sum(s.revenue)')} AS revenue, sum(s.quantity)::bigint AS quantity,
            sum(s.orders)::bigint AS orders
     FROM sales_by_day_category_region s JOIN categories c USING (category_id)
     WHERE s.sale_date BETWEEN ${params.add(range.from)} AND ${params.add(range.to)}
       AND ${nameFilter(params, 's.region_id', 'regions', query.region)}
     GROUP BY c.name
     ORDER BY sum(s.revenue) DESC, c.name ${BYTE_ORDER}`,
    params.values,
  );
  return { ...range, items: rows };
}

export async function revenueByRegion(
  db: Queryable,
  query: RangeQuery & { category?: string },
): Promise<Range & { items: ({ region: string } & DimensionRevenue)[] }> {
  const range = await effectiveRange(db, query);
  if (!hasRange(range)) return { ...range, items: [] };
  const params = new SqlParams();
  // With a category, orders are the orders with a line in it; without, every order once.
  const source =
    query.category === undefined
      ? 'sales_by_day_region s'
      : `(SELECT * FROM sales_by_day_category_region WHERE ${nameFilter(params, 'category_id', 'categories', query.category)}) s`;
  const { rows } = await db.query<{ region: string } & DimensionRevenue>(
    `SELECT r.name AS region, ${money('sum(s.revenue)')} AS revenue, sum(s.quantity)::bigint AS quantity,
            sum(s.orders)::bigint AS orders
     FROM ${source} JOIN regions r USING (region_id)
     WHERE s.sale_date BETWEEN ${params.add(range.from)} AND ${params.add(range.to)}
     GROUP BY r.name
     ORDER BY sum(s.revenue) DESC, r.name ${BYTE_ORDER}`,
    params.values,
  );
  return { ...range, items: rows };
}
