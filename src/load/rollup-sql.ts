// Maintenance of the aggregation layer (migrations/0002_rollups.sql). An append subtracts the touched orders'
// contributions before they change and adds them back after, so its cost follows the size of the change,
// not of the database; a replace (or a product changing category) rebuilds a table from the facts.
import { LINE_FIGURES } from '../db/line-figures.js';

export type RollupScope = 'touched' | 'all';

const ORDER_FILTER: Record<RollupScope, string> = {
  touched: 'WHERE o.code IN (SELECT code FROM touched_orders)',
  all: '',
};
const CUSTOMER_FILTER: Record<RollupScope, string> = {
  touched: 'WHERE customer_id IN (SELECT customer_id FROM touched_customers)',
  all: '',
};

/** A delta adds to existing rows; a rebuild writes into an emptied table and needs no conflict handling. */
const ON_CONFLICT: Record<RollupScope, (key: string, add: string) => string> = {
  touched: (key, add) => `ON CONFLICT (${key}) DO UPDATE SET ${add}`,
  all: () => '',
};

// $1 is the sign: -1 removes a contribution, 1 adds it.
const LINE_MEASURES = `
  $1 * count(*), $1 * sum(i.quantity), $1 * sum(i.gross), $1 * sum(i.discount), $1 * sum(i.revenue),
  $1 * sum(i.shipping_cost),
  $1 * coalesce(sum(i.revenue) FILTER (WHERE i.unit_cost IS NOT NULL), 0),
  $1 * coalesce(sum(i.cost), 0)`;

const ADD_MEASURES = `
  lines = r.lines + excluded.lines, quantity = r.quantity + excluded.quantity, gross = r.gross + excluded.gross,
  discount = r.discount + excluded.discount, revenue = r.revenue + excluded.revenue,
  shipping = r.shipping + excluded.shipping, costed_revenue = r.costed_revenue + excluded.costed_revenue,
  cost = r.cost + excluded.cost`;

const MEASURE_COLUMNS = 'lines, quantity, gross, discount, revenue, shipping, costed_revenue, cost';

export function productRollup(scope: RollupScope): string {
  return `
INSERT INTO sales_by_month_product_region AS r (month, product_id, region_id, ${MEASURE_COLUMNS})
SELECT date_trunc('month', o.sale_date)::date, i.product_id, o.region_id, ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
${ORDER_FILTER[scope]}
GROUP BY 1, i.product_id, o.region_id
${ON_CONFLICT[scope]('month, product_id, region_id', ADD_MEASURES)}`;
}

// A coarser rollup's rebuild from a finer one, signed like LINE_MEASURES.
const SUM_MEASURES = `$1 * sum(lines), $1 * sum(quantity), $1 * sum(gross), $1 * sum(discount), $1 * sum(revenue),
  $1 * sum(shipping), $1 * sum(costed_revenue), $1 * sum(cost)`;

/** Touched orders: from their lines. A rebuild: from the monthly table, rebuilt just before (far fewer rows). */
export function yearProductRegionRollup(scope: RollupScope): string {
  if (scope === 'all') {
    return `
INSERT INTO sales_by_year_product_region (year, product_id, region_id, ${MEASURE_COLUMNS})
SELECT date_trunc('year', month)::date, product_id, region_id, ${SUM_MEASURES}
FROM sales_by_month_product_region
GROUP BY 1, product_id, region_id`;
  }
  return `
INSERT INTO sales_by_year_product_region AS r (year, product_id, region_id, ${MEASURE_COLUMNS})
SELECT date_trunc('year', o.sale_date)::date, i.product_id, o.region_id, ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
${ORDER_FILTER[scope]}
GROUP BY 1, i.product_id, o.region_id
${ON_CONFLICT[scope]('year, product_id, region_id', ADD_MEASURES)}`;
}

export function yearProductRollup(scope: RollupScope): string {
  if (scope === 'all') {
    return `
INSERT INTO sales_by_year_product (year, product_id, ${MEASURE_COLUMNS})
SELECT year, product_id, ${SUM_MEASURES}
FROM sales_by_year_product_region
GROUP BY year, product_id`;
  }
  return `
INSERT INTO sales_by_year_product AS r (year, product_id, ${MEASURE_COLUMNS})
SELECT date_trunc('year', o.sale_date)::date, i.product_id, ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
${ORDER_FILTER[scope]}
GROUP BY 1, i.product_id
${ON_CONFLICT[scope]('year, product_id', ADD_MEASURES)}`;
}

// Customer cells are recomputed, not shifted: a touched customer's cells are deleted before the change and
// rebuilt from all of its orders after it ($1 is then 1).
const TOUCHED_CUSTOMERS = 'customer_id IN (SELECT customer_id FROM touched_customers)';

export function monthCustomerRollup(scope: RollupScope): string {
  // Revenue per order first: grouping orders by customer then needs count(*), not count(DISTINCT) (faster).
  const touched = scope === 'touched' ? `WHERE o.${TOUCHED_CUSTOMERS}` : '';
  return `
INSERT INTO sales_by_month_customer (month, customer_id, orders, revenue, first_day, last_day)
SELECT date_trunc('month', o.sale_date)::date, o.customer_id, $1 * count(*), $1 * sum(t.revenue), min(o.sale_date),
       max(o.sale_date)
FROM (
  SELECT i.order_id, sum(i.revenue) AS revenue
  FROM ${LINE_FIGURES} ${touched ? `JOIN orders o USING (order_id) ${touched}` : ''}
  GROUP BY i.order_id
) AS t JOIN orders o USING (order_id)
GROUP BY 1, o.customer_id`;
}

/** From the monthly cells, just rebuilt (for a touched customer: just recomputed). */
export function yearCustomerRollup(scope: RollupScope): string {
  return `
INSERT INTO sales_by_year_customer (year, customer_id, orders, revenue, first_day, last_day)
SELECT date_trunc('year', month)::date, customer_id, $1 * sum(orders), $1 * sum(revenue), min(first_day), max(last_day)
FROM sales_by_month_customer
${scope === 'touched' ? `WHERE ${TOUCHED_CUSTOMERS}` : ''}
GROUP BY 1, customer_id`;
}

export function categoryRollup(scope: RollupScope): string {
  return `
INSERT INTO sales_by_day_category_region AS r (sale_date, category_id, region_id, orders, ${MEASURE_COLUMNS})
SELECT o.sale_date, p.category_id, o.region_id, $1 * count(DISTINCT o.order_id), ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id) JOIN products p USING (product_id)
${ORDER_FILTER[scope]}
GROUP BY o.sale_date, p.category_id, o.region_id
${ON_CONFLICT[scope]('sale_date, category_id, region_id', `orders = r.orders + excluded.orders, ${ADD_MEASURES}`)}`;
}

export function regionRollup(scope: RollupScope): string {
  return `
INSERT INTO sales_by_day_region AS r (sale_date, region_id, orders, ${MEASURE_COLUMNS})
SELECT o.sale_date, o.region_id, $1 * count(DISTINCT o.order_id), ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
${ORDER_FILTER[scope]}
GROUP BY o.sale_date, o.region_id
${ON_CONFLICT[scope]('sale_date, region_id', `orders = r.orders + excluded.orders, ${ADD_MEASURES}`)}`;
}

export function customerDaysRollup(scope: RollupScope): string {
  return `
INSERT INTO customers_by_day AS r (sale_date, previous_sale_date, customers)
SELECT sale_date, previous_sale_date, $1 * count(*)
FROM (
  SELECT sale_date, coalesce(lag(sale_date) OVER (PARTITION BY customer_id ORDER BY sale_date), '-infinity') AS previous_sale_date
  FROM (SELECT DISTINCT customer_id, sale_date FROM orders ${CUSTOMER_FILTER[scope]}) AS order_days
) AS days
GROUP BY sale_date, previous_sale_date
${ON_CONFLICT[scope]('sale_date, previous_sale_date', 'customers = r.customers + excluded.customers')}`;
}

// In this order: the yearly tables are rebuilt from the monthly ones.
export const ROLLUP_TABLES = {
  product: { table: 'sales_by_month_product_region', contribution: productRollup, emptyWhen: 'lines = 0' },
  yearProductRegion: { table: 'sales_by_year_product_region', contribution: yearProductRegionRollup, emptyWhen: 'lines = 0' },
  yearProduct: { table: 'sales_by_year_product', contribution: yearProductRollup, emptyWhen: 'lines = 0' },
  category: { table: 'sales_by_day_category_region', contribution: categoryRollup, emptyWhen: 'lines = 0' },
  region: { table: 'sales_by_day_region', contribution: regionRollup, emptyWhen: 'lines = 0' },
  customerDays: { table: 'customers_by_day', contribution: customerDaysRollup, emptyWhen: 'customers = 0' },
  monthCustomer: {
    table: 'sales_by_month_customer',
    contribution: monthCustomerRollup,
    emptyWhen: 'orders = 0',
    remove: `DELETE FROM sales_by_month_customer WHERE ${TOUCHED_CUSTOMERS}`,
  },
  yearCustomer: {
    table: 'sales_by_year_customer',
    contribution: yearCustomerRollup,
    emptyWhen: 'orders = 0',
    remove: `DELETE FROM sales_by_year_customer WHERE ${TOUCHED_CUSTOMERS}`,
  },
} as const;

export type Rollup = {
  table: string;
  contribution: (scope: RollupScope) => string;
  emptyWhen: string;
  /** Recomputed tables: how a touched part is removed before the change (instead of a negative contribution). */
  remove?: string;
};
