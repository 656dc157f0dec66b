// GET /api/v1/customers/lifetime-value: each customer's orders, revenue, average order value, first and
// last order day within the range; revenue desc, then customer code in byte order.
import { customerSales, customersInRange } from './customer-sales.js';
import { roundedQuotient } from './exact.js';
import type { Queryable } from './queryable.js';
import { effectiveRange, type Range, type RangeQuery } from './range.js';
import { BYTE_ORDER, hasRange, money, type Page, pageQuery } from './sql.js';

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
  // The page is ranked among the customers whose revenue reaches the page's last place (ties included): only
  // those are joined to their codes and sorted by them, not every customer of the range; the total comes
  // from the distinct customers of the range rather than from counting the ranked ones.
  const { rows, first } = await pageQuery<Omit<CustomerValue, 'averageOrderValue'> & { exactRevenue: string; total: number }>(
    db,
    page,
    (params, limit, offset) =>
      `WITH leaders AS (
         SELECT * FROM (SELECT *, rank() OVER (ORDER BY revenue DESC) AS place FROM ${customerSales(params, range)} AS sales) ranked
         WHERE place <= ${limit}::bigint + ${offset}::bigint
       )
       SELECT c.code AS "customerId", c.name, s.orders::bigint AS orders, ${money('s.revenue')} AS revenue,
              s.revenue AS "exactRevenue", s.first_order AS "firstOrder",
              s.last_order AS "lastOrder", ${customersInRange(params.add(range.from), params.add(range.to))} AS total
       FROM leaders s JOIN customers c USING (customer_id)
       ORDER BY s.revenue DESC, c.code ${BYTE_ORDER}
       LIMIT ${limit} OFFSET ${offset}`,
  );
  const items = rows.map(({ exactRevenue, total: _, ...row }) => ({
    customerId: row.customerId,
    name: row.name,
    orders: row.orders,
    revenue: row.revenue,
    averageOrderValue: roundedQuotient(exactRevenue, row.orders, 2) as number,
    firstOrder: row.firstOrder,
    lastOrder: row.lastOrder,
  }));
  return { ...range, items, ...page, total: first?.total ?? 0 };
}
