// Per customer in a range: orders, revenue, first and last order day. Whole years and whole months come
// from the customer rollups, the days of a partial month at either end from the orders and their lines.
// Shared by lifetime value and segmentation.
import { LINE_FIGURES } from '../db/line-figures.js';
import { rangeGrains, type SqlParams } from './sql.js';

const CELLS = 'customer_id, orders, revenue, first_day, last_day';

/** Rows (customer_id, orders, revenue, first_order, last_order) for the customers with orders in the range. */
export function customerSales(params: SqlParams, range: { from: string; to: string }): string {
  const { years, months, days } = rangeGrains(params, range);
  const parts: string[] = [];
  if (years) parts.push(`SELECT ${CELLS} FROM sales_by_year_customer WHERE ${years}`);
  if (months) parts.push(`SELECT ${CELLS} FROM sales_by_month_customer WHERE ${months}`);
  if (days) {
    parts.push(`
      SELECT o.customer_id, count(DISTINCT o.order_id), sum(i.revenue), min(o.sale_date), max(o.sale_date)
      FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
      WHERE ${days('o.sale_date')}
      GROUP BY o.customer_id`);
  }
  return `(
    SELECT customer_id, sum(orders) AS orders, sum(revenue) AS revenue, min(first_day) AS first_order,
           max(last_day) AS last_order
    FROM (${parts.join('\nUNION ALL\n')}) AS cells (${CELLS})
    GROUP BY customer_id
  )`;
}
