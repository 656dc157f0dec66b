// GET /api/v1/revenue: revenue (net of discounts), gross, discounts, shipping, orders and units in a range.

import type { Queryable } from './queryable.js';
import { effectiveRange, type Range, type RangeQuery } from './range.js';
import { hasRange, money } from './sql.js';

export interface RevenueSummary extends Range {
  revenue: number;
  grossRevenue: number;
  discounts: number;
  shipping: number;
  orders: number;
  quantity: number;
}

export async function revenueSummary(db: Queryable, query: RangeQuery): Promise<RevenueSummary> {
  const range = await effectiveRange(db, query);
  const zero = { revenue: 0, grossRevenue: 0, discounts: 0, shipping: 0, orders: 0, quantity: 0 };
  if (!hasRange(range)) return { ...range, ...zero };
  // Orders add up over days and regions: an order has one day and one region.
  const { rows } = await db.query<Omit<RevenueSummary, 'from' | 'to'>>(
    `SELECT ${money('coalesce(sum(revenue), 0)')} AS revenue, ${money('coalesce(sum(gross), 0)')} AS "grossRevenue",
            ${money('coalesce(sum(discount), 0)')} AS discounts, ${money('coalesce(sum(shipping), 0)')} AS shipping,
            coalesce(sum(orders), 0)::bigint AS orders, coalesce(sum(quantity), 0)::bigint AS quantity
     FROM sales_by_day_region WHERE sale_date BETWEEN $1 AND $2`,
    [range.from, range.to],
  );
  return { ...range, ...rows[0] };
}
