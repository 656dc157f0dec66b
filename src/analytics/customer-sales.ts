// Per customer in a range: orders, revenue, first and last order day. Whole years come from the yearly
// customer rollup, every other day from the daily one (first and last days cannot be taken out of a sum, so
// no part of a range is subtracted here). Shared by lifetime value and segmentation.
import { rangeGrains, type SqlParams } from './sql.js';

const CELLS = 'customer_id, orders, revenue, first_day, last_day';

/** Rows (customer_id, orders, revenue, first_order, last_order) for the customers with orders in the range. */
export function customerSales(params: SqlParams, range: { from: string; to: string }): string {
  const { years, days } = rangeGrains(params, range);
  const parts: string[] = [];
  if (years) parts.push(`SELECT ${CELLS} FROM sales_by_year_customer WHERE ${years}`);
  if (days) {
    parts.push(`SELECT customer_id, orders, revenue, sale_date, sale_date FROM sales_by_day_customer WHERE ${days('sale_date')}`);
  }
  return `(
    SELECT customer_id, sum(orders) AS orders, sum(revenue) AS revenue, min(first_day) AS first_order,
           max(last_day) AS last_order
    FROM (${parts.join('\nUNION ALL\n')}) AS cells (${CELLS})
    GROUP BY customer_id
  )`;
}

/**
 * The distinct customers with orders in [from, to] (placeholders or literals), exact, from customers_by_day:
 * a customer counts on its first order day in the range, the day whose previous order day is before `from`.
 */
export const customersInRange = (from: string, to: string) =>
  `(SELECT coalesce(sum(customers), 0)::bigint FROM customers_by_day
    WHERE sale_date BETWEEN ${from} AND ${to} AND previous_sale_date < ${from})`;
