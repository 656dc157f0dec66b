// GET /api/v1/customers/lifetime-value: each customer's orders, revenue, average order value, first and
// last order day within the range; revenue desc, then customer code in byte order.
import { customerSales } from './customer-sales.js';
import { effectiveRange, type Range, type RangeQuery } from './range.js';
import { BYTE_ORDER, hasRange, money, type Page, pageQuery, type Queryable, withoutTotals } from './sql.js';

export interface CustomerValue {
  customerId: string;
  name: string;
  orders: number;
  revenue: number;
  averageOrderValue: number;
  firstOrder: string;
  lastOrder: string;
}

export async function lifetimeValue(
  db: Queryable,
  query: RangeQuery & Page,
): Promise<Range & { items: CustomerValue[] } & Page & { total: number }> {
  const range = await effectiveRange(db, query);
  const page = { limit: query.limit, offset: query.offset };
  if (!hasRange(range)) return { ...range, items: [], ...page, total: 0 };
  const { rows, first } = await pageQuery<CustomerValue & { total: number }>(
    db,
    page,
    (params, limit, offset) =>
      `SELECT c.code AS "customerId", c.name, s.orders::bigint AS orders, ${money('s.revenue')} AS revenue,
              ${money('s.revenue / s.orders')} AS "averageOrderValue", s.first_order AS "firstOrder",
              s.last_order AS "lastOrder", count(*) OVER () AS total
       FROM ${customerSales(params, range)} s JOIN customers c USING (customer_id)
       ORDER BY s.revenue DESC, c.code ${BYTE_ORDER}
       LIMIT ${limit} OFFSET ${offset}`,
  );
  return { ...range, items: withoutTotals(rows, 'total'), ...page, total: first?.total ?? 0 };
}
