// Per customer in a range: orders, revenue, first and last order day, from the orders and their lines.
// Shared by lifetime value and segmentation.
import { LINE_FIGURES } from '../db/line-figures.js';
import type { SqlParams } from './sql.js';

/** Rows (customer_id, orders, revenue, first_order, last_order) for the customers with orders in the range. */
export function customerSales(params: SqlParams, range: { from: string; to: string }): string {
  return `(
    SELECT customer_id, count(*) AS orders, sum(revenue) AS revenue, min(sale_date) AS first_order,
           max(sale_date) AS last_order
    FROM (
      SELECT o.customer_id, o.sale_date, sum(i.revenue) AS revenue
      FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
      WHERE o.sale_date BETWEEN ${params.add(range.from)} AND ${params.add(range.to)}
      GROUP BY o.order_id
    ) AS per_order
    GROUP BY customer_id
  )`;
}
