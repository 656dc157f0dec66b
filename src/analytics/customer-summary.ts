// GET /api/v1/customers/summary: distinct customers, orders, revenue and average order value in a range.
// Distinct customers are exact and come from customers_by_day (customersInRange).
import { customersInRange } from './customer-sales.js';
import { roundedQuotient } from './exact.js';
import type { Queryable } from './queryable.js';
import { effectiveRange, type Range, type RangeQuery } from './range.js';
import { hasRange, money } from './sql.js';

export interface CustomerSummary extends Range {
  customers: number;
  orders: number;
  revenue: number;
  averageOrderValue: number;
}

export async function customerSummary(db: Queryable, query: RangeQuery): Promise<CustomerSummary> {
  const range = await effectiveRange(db, query);
  if (!hasRange(range)) return { ...range, customers: 0, orders: 0, revenue: 0, averageOrderValue: 0 };
  const { rows } = await db.query<Omit<CustomerSummary, 'from' | 'to' | 'averageOrderValue'> & { exactRevenue: string }>(
    `SELECT ${customersInRange('$1', '$2')} AS customers,
            coalesce(sum(orders), 0)::bigint AS orders, ${money('coalesce(sum(revenue), 0)')} AS revenue,
            coalesce(sum(revenue), 0) AS "exactRevenue"
     FROM sales_by_day_region WHERE sale_date BETWEEN $1 AND $2`,
    [range.from, range.to],
  );
  const { exactRevenue, ...figures } = rows[0];
  return { ...range, ...figures, averageOrderValue: roundedQuotient(exactRevenue, figures.orders, 2) as number };
}
