// Maintenance of the aggregation layer (migrations/0002-0004). An append writes the touched orders' old
// contributions (negated) and their new ones into a delta table per rollup and applies the net change in one
// upsert, so its cost follows the size of the change, not of the database, and cells whose figures do not
// change are not written; a replace (or a product changing category) rebuilds a table from the facts.
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

/** The temporary table that collects an additive rollup's changes during an append. */
export const deltaTable = (table: string) => `${table}_delta`;

/** A rebuild writes into the emptied rollup; touched orders' contributions go to its delta table. */
const into = (scope: RollupScope, table: string) => (scope === 'all' ? table : deltaTable(table));

// $1 is the sign: -1 removes a contribution, 1 adds it.
const LINE_MEASURES = `
  $1 * count(*), $1 * sum(i.quantity), $1 * sum(i.gross), $1 * sum(i.discount), $1 * sum(i.revenue),
  $1 * sum(i.shipping_cost),
  $1 * coalesce(sum(i.revenue) FILTER (WHERE i.unit_cost IS NOT NULL), 0),
  $1 * coalesce(sum(i.cost), 0)`;

const MEASURE_COLUMNS = 'lines, quantity, gross, discount, revenue, shipping, costed_revenue, cost';

export function productRollup(scope: RollupScope): string {
  return `
INSERT INTO ${into(scope, 'sales_by_month_product_region')} (month, product_id, region_id, ${MEASURE_COLUMNS})
SELECT date_trunc('month', o.sale_date)::date, i.product_id, o.region_id, ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
${ORDER_FILTER[scope]}
GROUP BY 1, i.product_id, o.region_id`;
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
INSERT INTO ${into(scope, 'sales_by_year_product_region')} (year, product_id, region_id, ${MEASURE_COLUMNS})
SELECT date_trunc('year', o.sale_date)::date, i.product_id, o.region_id, ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
${ORDER_FILTER[scope]}
GROUP BY 1, i.product_id, o.region_id`;
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
INSERT INTO ${into(scope, 'sales_by_year_product')} (year, product_id, ${MEASURE_COLUMNS})
SELECT date_trunc('year', o.sale_date)::date, i.product_id, ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
${ORDER_FILTER[scope]}
GROUP BY 1, i.product_id`;
}

// Customer cells are recomputed, not shifted (first and last days cannot be subtracted): the cells an append
// touches are deleted before the change and rebuilt from their orders after it ($1 is then 1).
const TOUCHED_YEARS = `(SELECT DISTINCT customer_id, date_trunc('year', month)::date AS year FROM touched_customer_months)`;
const REMOVE_TOUCHED_MONTHS = `
DELETE FROM sales_by_month_customer m USING touched_customer_months t
WHERE m.customer_id = t.customer_id AND m.month = t.month`;
const REMOVE_TOUCHED_YEARS = `
DELETE FROM sales_by_year_customer y USING ${TOUCHED_YEARS} t
WHERE y.customer_id = t.customer_id AND y.year = t.year`;

export function monthCustomerRollup(scope: RollupScope): string {
  // Revenue per order first: grouping orders by customer then needs count(*), not count(DISTINCT) (faster).
  const touched = `JOIN orders o USING (order_id)
    JOIN touched_customer_months t ON t.customer_id = o.customer_id
     AND o.sale_date >= t.month AND o.sale_date < t.month + interval '1 month'`;
  return `
INSERT INTO sales_by_month_customer (month, customer_id, orders, revenue, first_day, last_day)
SELECT date_trunc('month', o.sale_date)::date, o.customer_id, $1 * count(*), $1 * sum(t.revenue), min(o.sale_date),
       max(o.sale_date)
FROM (
  SELECT i.order_id, sum(i.revenue) AS revenue
  FROM ${LINE_FIGURES} ${scope === 'touched' ? touched : ''}
  GROUP BY i.order_id
) AS t JOIN orders o USING (order_id)
GROUP BY 1, o.customer_id`;
}

/** From the monthly cells, just rebuilt (in an append: just recomputed). */
export function yearCustomerRollup(scope: RollupScope): string {
  const touched = `JOIN ${TOUCHED_YEARS} t ON t.customer_id = m.customer_id
    AND m.month >= t.year AND m.month < t.year + interval '1 year'`;
  return `
INSERT INTO sales_by_year_customer (year, customer_id, orders, revenue, first_day, last_day)
SELECT date_trunc('year', m.month)::date, m.customer_id, $1 * sum(m.orders), $1 * sum(m.revenue), min(m.first_day),
       max(m.last_day)
FROM sales_by_month_customer m ${scope === 'touched' ? touched : ''}
GROUP BY 1, m.customer_id`;
}

/** Running totals per product and region through each year: rebuilt whole from the yearly table ($1 is 1). */
export function throughYearRollup(): string {
  return `
INSERT INTO sales_through_year_product_region (year, product_id, region_id, quantity, revenue)
SELECT y.year, p.product_id, p.region_id,
       $1 * sum(coalesce(s.quantity, 0)) OVER pair, $1 * sum(coalesce(s.revenue, 0)) OVER pair
FROM (SELECT DISTINCT year FROM sales_by_year_product_region) y
JOIN (SELECT product_id, region_id, min(year) AS first_year FROM sales_by_year_product_region GROUP BY 1, 2) p
  ON y.year >= p.first_year
LEFT JOIN sales_by_year_product_region s ON s.year = y.year AND s.product_id = p.product_id AND s.region_id = p.region_id
WINDOW pair AS (PARTITION BY p.product_id, p.region_id ORDER BY y.year)`;
}

export function categoryRollup(scope: RollupScope): string {
  return `
INSERT INTO ${into(scope, 'sales_by_day_category_region')} (sale_date, category_id, region_id, orders, ${MEASURE_COLUMNS})
SELECT o.sale_date, p.category_id, o.region_id, $1 * count(DISTINCT o.order_id), ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id) JOIN products p USING (product_id)
${ORDER_FILTER[scope]}
GROUP BY o.sale_date, p.category_id, o.region_id`;
}

export function regionRollup(scope: RollupScope): string {
  return `
INSERT INTO ${into(scope, 'sales_by_day_region')} (sale_date, region_id, orders, ${MEASURE_COLUMNS})
SELECT o.sale_date, o.region_id, $1 * count(DISTINCT o.order_id), ${LINE_MEASURES}
FROM ${LINE_FIGURES} JOIN orders o USING (order_id)
${ORDER_FILTER[scope]}
GROUP BY o.sale_date, o.region_id`;
}

export function customerDaysRollup(scope: RollupScope): string {
  return `
INSERT INTO ${into(scope, 'customers_by_day')} (sale_date, previous_sale_date, customers)
SELECT sale_date, previous_sale_date, $1 * count(*)
FROM (
  SELECT sale_date, coalesce(lag(sale_date) OVER (PARTITION BY customer_id ORDER BY sale_date), '-infinity') AS previous_sale_date
  FROM (SELECT DISTINCT customer_id, sale_date FROM orders ${CUSTOMER_FILTER[scope]}) AS order_days
) AS days
GROUP BY sale_date, previous_sale_date`;
}

const LINE_TABLE_MEASURES = MEASURE_COLUMNS.split(', ');

// In this order: the yearly tables are rebuilt from the monthly ones.
export const ROLLUP_TABLES = {
  product: {
    table: 'sales_by_month_product_region',
    contribution: productRollup,
    key: ['month', 'product_id', 'region_id'],
    measures: LINE_TABLE_MEASURES,
  },
  yearProductRegion: {
    table: 'sales_by_year_product_region',
    contribution: yearProductRegionRollup,
    key: ['year', 'product_id', 'region_id'],
    measures: LINE_TABLE_MEASURES,
  },
  yearProduct: {
    table: 'sales_by_year_product',
    contribution: yearProductRollup,
    key: ['year', 'product_id'],
    measures: LINE_TABLE_MEASURES,
  },
  throughYear: {
    table: 'sales_through_year_product_region',
    contribution: throughYearRollup,
    key: ['year', 'product_id', 'region_id'],
    measures: ['quantity'],
    // Small (years x product-region pairs): an append rebuilds it whole.
    remove: 'DELETE FROM sales_through_year_product_region',
  },
  category: {
    table: 'sales_by_day_category_region',
    contribution: categoryRollup,
    key: ['sale_date', 'category_id', 'region_id'],
    measures: ['orders', ...LINE_TABLE_MEASURES],
  },
  region: {
    table: 'sales_by_day_region',
    contribution: regionRollup,
    key: ['sale_date', 'region_id'],
    measures: ['orders', ...LINE_TABLE_MEASURES],
  },
  customerDays: {
    table: 'customers_by_day',
    contribution: customerDaysRollup,
    key: ['sale_date', 'previous_sale_date'],
    measures: ['customers'],
  },
  monthCustomer: {
    table: 'sales_by_month_customer',
    contribution: monthCustomerRollup,
    key: ['month', 'customer_id'],
    measures: ['orders'],
    remove: REMOVE_TOUCHED_MONTHS,
  },
  yearCustomer: {
    table: 'sales_by_year_customer',
    contribution: yearCustomerRollup,
    key: ['year', 'customer_id'],
    measures: ['orders'],
    remove: REMOVE_TOUCHED_YEARS,
  },
} as const;

export type Rollup = {
  table: string;
  contribution: (scope: RollupScope) => string;
  key: readonly string[];
  /** Additive columns; a row whose first measure (its count) is 0 holds nothing and is deleted. */
  measures: readonly string[];
  /** Recomputed tables: how a touched part is removed before the change (they have no delta table). */
  remove?: string;
};

/** Applies a delta table's net change to its rollup in one upsert, skipping cells whose change is nil. */
export function applyDelta({ table, key, measures }: Rollup): string {
  const keys = key.join(', ');
  return `
INSERT INTO ${table} AS r (${keys}, ${measures.join(', ')})
SELECT ${keys}, ${measures.map((m) => `sum(${m})`).join(', ')}
FROM ${deltaTable(table)}
GROUP BY ${keys}
HAVING ${measures.map((m) => `sum(${m}) <> 0`).join(' OR ')}
ON CONFLICT (${keys}) DO UPDATE SET ${measures.map((m) => `${m} = r.${m} + excluded.${m}`).join(', ')}`;
}
