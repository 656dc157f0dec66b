// The stored aggregation layer of an analytics snapshot: each rollup declared once, as the DuckDB statement
// that makes it from the snapshot's facts (one row per order line with what the rollups group by and its
// figures, computed exactly by PostgreSQL as it read the record). In this order: later ones read earlier ones.
// The analyses read these tables by the names and columns they had in PostgreSQL.
//
// Every sum of money is stored as `total`, the narrowest exact decimal that holds any sum of the version
// (build.ts): DuckDB's sum of a decimal is a 38-digit decimal, 128 bits wide, and a stored 128-bit column
// scans about 7x slower than a 64-bit one (a year of the daily product rollup at 1M lines: 31 ms against 4).

/**
 * How a rollup takes orders added to the facts (build.ts): the rows of the periods the new lines fall in are
 * made again from `select` ('sale_date', 'month', 'year': the column the rows are grouped by time on), or the
 * whole table is ('whole': running totals, which every later period depends on). customers_by_day counts
 * each customer's days, which only that customer's new days change: it is corrected by the difference of
 * theirs (CUSTOMER_DAYS, before and after).
 */
export type RollupIncrement = 'sale_date' | 'month' | 'year' | 'whole' | 'customer days';

export interface Rollup {
  table: string;
  /** The statement that makes it from the facts and the rollups before it. */
  select: string;
  increment: RollupIncrement;
}

/**
 * Each day a customer ordered, with the day they ordered before it ('-infinity' on their first); `where` selects
 * the customers. A customer counts in [from, to] on the first day in the range it ordered: the day whose
 * previous order day is before `from`.
 */
export const CUSTOMER_DAYS = (where = '') => `
SELECT sale_date, coalesce(lag(sale_date) OVER (PARTITION BY customer_id ORDER BY sale_date), '-infinity'::DATE) AS previous_sale_date
FROM (SELECT DISTINCT customer_id, sale_date FROM facts ${where})`;

/** The rollups of a version whose sums of money fit `total`. */
export function snapshotRollups(total: string): Rollup[] {
  /** Lines, quantity and the figures the product and category analyses read. */
  const PRODUCT_MEASURES = `count(*)::INTEGER AS lines, sum(quantity)::BIGINT AS quantity, sum(revenue)::${total} AS revenue,
    coalesce(sum(revenue) FILTER (WHERE unit_cost IS NOT NULL), 0)::${total} AS costed_revenue,
    coalesce(sum(cost), 0)::${total} AS cost`;
  /** The daily region rollup keeps gross, discounts and shipping too: the revenue summary reads them. */
  const LINE_MEASURES = `${PRODUCT_MEASURES}, sum(gross)::${total} AS gross, sum(discount)::${total} AS discount,
    sum(shipping_cost)::${total} AS shipping`;
  /** Orders with a line in the cell (an order has one day, region and customer). */
  const ORDERS = 'count(DISTINCT order_id)::INTEGER AS orders';
  const SUM_PRODUCT_MEASURES = `sum(lines)::INTEGER AS lines, sum(quantity)::BIGINT AS quantity,
    sum(revenue)::${total} AS revenue, sum(costed_revenue)::${total} AS costed_revenue, sum(cost)::${total} AS cost`;

  return [
    {
      table: 'sales_by_day_product_region',
      select: `SELECT sale_date, product_id, region_id, ${PRODUCT_MEASURES}
        FROM facts GROUP BY sale_date, product_id, region_id ORDER BY sale_date`,
      increment: 'sale_date',
    },
    {
      table: 'sales_by_month_product_region',
      select: `SELECT date_trunc('month', sale_date)::DATE AS month, product_id, region_id, ${SUM_PRODUCT_MEASURES}
        FROM sales_by_day_product_region GROUP BY ALL ORDER BY month`,
      increment: 'month',
    },
    {
      table: 'sales_by_year_product_region',
      select: `SELECT date_trunc('year', month)::DATE AS year, product_id, region_id, ${SUM_PRODUCT_MEASURES}
        FROM sales_by_month_product_region GROUP BY ALL ORDER BY year`,
      increment: 'year',
    },
    {
      table: 'sales_by_year_product',
      select: `SELECT year, product_id, ${SUM_PRODUCT_MEASURES} FROM sales_by_year_product_region GROUP BY ALL ORDER BY year`,
      increment: 'year',
    },
    {
      // Running totals per product and region through each year of the data.
      table: 'sales_through_year_product_region',
      select: `SELECT y.year, p.product_id, p.region_id,
          sum(coalesce(s.quantity, 0)) OVER pair AS quantity, (sum(coalesce(s.revenue, 0)) OVER pair)::${total} AS revenue
        FROM (SELECT DISTINCT year FROM sales_by_year_product_region) y
        JOIN (SELECT product_id, region_id, min(year) AS first_year FROM sales_by_year_product_region GROUP BY ALL) p
          ON y.year >= p.first_year
        LEFT JOIN sales_by_year_product_region s ON s.year = y.year AND s.product_id = p.product_id AND s.region_id = p.region_id
        WINDOW pair AS (PARTITION BY p.product_id, p.region_id ORDER BY y.year)`,
      increment: 'whole',
    },
    {
      table: 'sales_by_day_category_region',
      select: `SELECT sale_date, category_id, region_id, ${ORDERS}, ${PRODUCT_MEASURES}
        FROM facts GROUP BY sale_date, category_id, region_id ORDER BY sale_date`,
      increment: 'sale_date',
    },
    {
      table: 'sales_by_day_region',
      select: `SELECT sale_date, region_id, ${ORDERS}, ${LINE_MEASURES} FROM facts GROUP BY sale_date, region_id ORDER BY sale_date`,
      increment: 'sale_date',
    },
    {
      table: 'customers_by_day',
      select: `SELECT sale_date, previous_sale_date, count(*)::INTEGER AS customers FROM (${CUSTOMER_DAYS()})
        GROUP BY ALL ORDER BY sale_date`,
      increment: 'customer days',
    },
    {
      // An order has one day and one customer: grouped by all three, a range of days reads only its facts.
      table: 'sales_by_day_customer',
      select: `SELECT sale_date, customer_id, count(*)::INTEGER AS orders, sum(revenue)::${total} AS revenue
        FROM (SELECT order_id, sale_date, customer_id, sum(revenue)::${total} AS revenue FROM facts GROUP BY ALL)
        GROUP BY ALL ORDER BY sale_date`,
      increment: 'sale_date',
    },
    {
      table: 'sales_by_year_customer',
      select: `SELECT date_trunc('year', sale_date)::DATE AS year, customer_id, sum(orders)::INTEGER AS orders,
          sum(revenue)::${total} AS revenue, min(sale_date) AS first_day, max(sale_date) AS last_day
        FROM sales_by_day_customer GROUP BY ALL ORDER BY year`,
      increment: 'year',
    },
  ];
}
