// Maintenance of the aggregation layer (migrations/0002-0005, 0009, 0010). An append copies the lines of the orders it
// touches, with everything the rollups group by, into `touched_facts`: before it changes them with negated
// figures, after it with their new ones. Each additive rollup then aggregates those rows once and applies the
// net change in one upsert, so its cost follows the size of the change, not of the database, and cells whose
// figures do not change are not written; the yearly tables take the net change of the monthly ones.
// customers_by_day collects old and new contributions in a delta table; the running totals are recomputed for
// the product-region pairs that changed. A replace (or a product changing category) rebuilds a table from
// all the facts.
import { LINE_FIGURES } from '../db/line-figures.js';

/** all: every order line, rebuilding the rollup; touched: the append's signed lines, or its touched cells. */
export type RollupScope = 'all' | 'touched';

/**
 * One row per order line with what the rollups group by (the order's day, region and customer, the product's
 * category) and its figures multiplied by `sign`: -1 takes a line's old contribution out.
 */
export function lineFacts(sign: 1 | -1, where = ''): string {
  const signed = (column: string) => (sign === 1 ? `i.${column}` : `-i.${column}`);
  return `SELECT i.order_id, i.product_id, o.customer_id, o.region_id, o.sale_date, p.category_id, ${sign} AS lines,
    ${['quantity', 'gross', 'discount', 'revenue', 'shipping_cost', 'cost'].map((c) => `${signed(c)} AS ${c}`).join(', ')},
    i.unit_cost
  FROM ${LINE_FIGURES} JOIN orders o USING (order_id) JOIN products p USING (product_id) ${where}`;
}

const FACTS: Record<RollupScope, string> = {
  all: `(${lineFacts(1)}) AS f`,
  touched: 'touched_facts AS f',
};

const CUSTOMER_FILTER: Record<RollupScope, string> = {
  all: '',
  touched: 'WHERE customer_id IN (SELECT customer_id FROM touched_customers)',
};

/** The temporary table that collects customers_by_day's old and new contributions during an append. */
export const deltaTable = (table: string) => `${table}_delta`;

/** What the product and category rollups keep of the lines (no analysis reads their gross, discounts or shipping). */
const PRODUCT_LINE_MEASURES = `
  sum(f.lines), sum(f.quantity), sum(f.revenue), coalesce(sum(f.revenue) FILTER (WHERE f.unit_cost IS NOT NULL), 0),
  coalesce(sum(f.cost), 0)`;
/** The daily region rollup keeps gross, discounts and shipping too: the revenue summary reads them. */
const LINE_MEASURES = `${PRODUCT_LINE_MEASURES}, sum(f.gross), sum(f.discount), sum(f.shipping_cost)`;
/** Orders with a line in the cell: a touched order counts -1 before the change and +1 after it. */
const ORDERS = `count(DISTINCT f.order_id) FILTER (WHERE f.lines > 0) - count(DISTINCT f.order_id) FILTER (WHERE f.lines < 0)`;

/** The columns of PRODUCT_LINE_MEASURES and LINE_MEASURES, in their order. */
const PRODUCT_MEASURE_COLUMNS = ['lines', 'quantity', 'revenue', 'costed_revenue', 'cost'];
const MEASURE_COLUMNS = [...PRODUCT_MEASURE_COLUMNS, 'gross', 'discount', 'shipping'];

export function productRollup(scope: RollupScope): string {
  return `
SELECT date_trunc('month', f.sale_date)::date, f.product_id, f.region_id, ${PRODUCT_LINE_MEASURES}
FROM ${FACTS[scope]}
GROUP BY 1, f.product_id, f.region_id`;
}

/** The lines, units and figures the product analyses read, per day, product and region; a rebuild in date order. */
export function dayProductRegionRollup(scope: RollupScope): string {
  return `
SELECT f.sale_date, f.product_id, f.region_id, ${PRODUCT_LINE_MEASURES}
FROM ${FACTS[scope]}
GROUP BY f.sale_date, f.product_id, f.region_id
${scope === 'all' ? 'ORDER BY f.sale_date' : ''}`;
}

// A coarser rollup's rebuild from a finer one.
const SUM_MEASURES = PRODUCT_MEASURE_COLUMNS.map((column) => `sum(${column})`).join(', ');

/** The change tables an append fills with each additive rollup's net change before applying it. */
export const changeTable = (table: string) => `${table}_change`;

/** From the monthly rows: all of them (a rebuild), or the monthly net change (an append). */
export function yearProductRegionRollup(scope: RollupScope): string {
  const source = 'sales_by_month_product_region';
  return `
SELECT date_trunc('year', month)::date, product_id, region_id, ${SUM_MEASURES}
FROM ${scope === 'all' ? source : changeTable(source)}
GROUP BY 1, product_id, region_id`;
}

/** From the yearly product and region rows, or their net change. */
export function yearProductRollup(scope: RollupScope): string {
  const source = 'sales_by_year_product_region';
  return `
SELECT year, product_id, ${SUM_MEASURES}
FROM ${scope === 'all' ? source : changeTable(source)}
GROUP BY year, product_id`;
}

export function categoryRollup(scope: RollupScope): string {
  return `
SELECT f.sale_date, f.category_id, f.region_id, ${ORDERS}, ${PRODUCT_LINE_MEASURES}
FROM ${FACTS[scope]}
GROUP BY f.sale_date, f.category_id, f.region_id`;
}

export function regionRollup(scope: RollupScope): string {
  return `
SELECT f.sale_date, f.region_id, ${ORDERS}, ${LINE_MEASURES}
FROM ${FACTS[scope]}
GROUP BY f.sale_date, f.region_id`;
}

// Customer cells: orders and revenue add up like the other measures. The daily cells need nothing else (a day
// is its own first and last order day); the yearly cells' first and last order days cannot be subtracted, so
// an append merges its new days in (least / greatest) and recomputes them from the daily cells only for the
// cells an order moved out of (another day or customer): `moved_orders`, usually none.

/** An order's revenue first: grouping orders by customer then needs count(*), not count(DISTINCT) (faster). */
export function dayCustomerRollup(scope: RollupScope): string {
  if (scope === 'all') {
    return `
SELECT o.sale_date, o.customer_id, count(*), sum(t.revenue)
FROM (SELECT i.order_id, sum(i.revenue) AS revenue FROM ${LINE_FIGURES} GROUP BY i.order_id) AS t JOIN orders o USING (order_id)
GROUP BY o.sale_date, o.customer_id
ORDER BY o.sale_date`;
  }
  return `
SELECT f.sale_date, f.customer_id, ${ORDERS}, sum(f.revenue)
FROM ${FACTS.touched}
GROUP BY f.sale_date, f.customer_id`;
}

/**
 * From the daily cells (a rebuild), or the signed touched lines per customer and year: orders and revenue
 * net, the days of the new orders (+-infinity without any: least and greatest keep the stored day; a NULL
 * would fail NOT NULL before the upsert finds the row).
 */
export function yearCustomerRollup(scope: RollupScope): string {
  if (scope === 'all') {
    return `
SELECT date_trunc('year', sale_date)::date, customer_id, sum(orders), sum(revenue), min(sale_date), max(sale_date)
FROM sales_by_day_customer
GROUP BY 1, customer_id`;
  }
  return `
SELECT date_trunc('year', f.sale_date)::date, f.customer_id, ${ORDERS}, sum(f.revenue),
       coalesce(min(f.sale_date) FILTER (WHERE f.lines > 0), 'infinity'),
       coalesce(max(f.sale_date) FILTER (WHERE f.lines > 0), '-infinity')
FROM ${FACTS.touched}
GROUP BY 1, f.customer_id`;
}

/** First and last days, again from the daily cells (their change applied), of the years an order moved out of. */
const REPAIR_YEAR_DAYS = `
UPDATE sales_by_year_customer y SET first_day = d.first_day, last_day = d.last_day
FROM (
  SELECT d.customer_id, c.year, min(d.sale_date) AS first_day, max(d.sale_date) AS last_day
  FROM (SELECT DISTINCT customer_id, date_trunc('year', sale_date)::date AS year FROM moved_orders) AS c
  JOIN sales_by_day_customer d ON d.customer_id = c.customer_id AND d.sale_date >= c.year AND d.sale_date < c.year + interval '1 year'
  GROUP BY d.customer_id, c.year
) AS d
WHERE y.customer_id = d.customer_id AND y.year = d.year`;

/**
 * Running totals per product and region through each year of the data ($1 is 1): all pairs, or (an append)
 * the pairs whose yearly rows changed.
 */
export function throughYearRollup(scope: RollupScope): string {
  const touched = `WHERE (product_id, region_id) IN (SELECT product_id, region_id FROM ${changeTable('sales_by_year_product_region')})`;
  return `
INSERT INTO sales_through_year_product_region (year, product_id, region_id, quantity, revenue)
SELECT y.year, p.product_id, p.region_id,
       $1 * sum(coalesce(s.quantity, 0)) OVER pair, $1 * sum(coalesce(s.revenue, 0)) OVER pair
FROM (SELECT DISTINCT year FROM sales_by_year_product_region) y
JOIN (
  SELECT product_id, region_id, min(year) AS first_year FROM sales_by_year_product_region ${scope === 'all' ? '' : touched}
  GROUP BY 1, 2
) p ON y.year >= p.first_year
LEFT JOIN sales_by_year_product_region s ON s.year = y.year AND s.product_id = p.product_id AND s.region_id = p.region_id
WINDOW pair AS (PARTITION BY p.product_id, p.region_id ORDER BY y.year)`;
}

const REMOVE_TOUCHED_PAIRS = `
DELETE FROM sales_through_year_product_region
WHERE (product_id, region_id) IN (SELECT product_id, region_id FROM ${changeTable('sales_by_year_product_region')})`;

/** Every pair needs a row for a year that appears in (or leaves) the data: then all of it is recomputed. */
const YEARS_CHANGED = `
SELECT (SELECT array_agg(DISTINCT year ORDER BY year) FROM sales_by_year_product_region)
  IS DISTINCT FROM (SELECT array_agg(DISTINCT year ORDER BY year) FROM sales_through_year_product_region) AS whole`;

/** $1 is the sign: -1 takes the touched customers' old contribution out. */
export function customerDaysRollup(scope: RollupScope): string {
  return `
INSERT INTO ${scope === 'all' ? 'customers_by_day' : deltaTable('customers_by_day')} (sale_date, previous_sale_date, customers)
SELECT sale_date, previous_sale_date, $1 * count(*)
FROM (
  SELECT sale_date, coalesce(lag(sale_date) OVER (PARTITION BY customer_id ORDER BY sale_date), '-infinity') AS previous_sale_date
  FROM (SELECT DISTINCT customer_id, sale_date FROM orders ${CUSTOMER_FILTER[scope]}) AS order_days
) AS days
GROUP BY sale_date, previous_sale_date`;
}

/**
 * How an append maintains a rollup. net: its rows from the signed touched facts, applied in one upsert.
 * delta: old and new contributions ($1 the sign) into a delta table, then one upsert. recompute: the touched
 * part removed before the change and computed again after it.
 */
export type Rollup =
  | {
      kind: 'net';
      table: string;
      key: readonly string[];
      /** Additive columns; a row whose first measure (its count) is 0 holds nothing and is deleted. */
      measures: readonly string[];
      /** The rollup's rows (key, measures, days) from all the facts or the signed touched ones. */
      rows: (scope: RollupScope) => string;
      /** A first and a last day after the measures: merged with least and greatest, then repaired. The touched
       * rows give +-infinity for a cell without new orders. */
      days?: readonly [string, string];
      /** Recomputes the days of the cells an order moved out of. */
      repair?: string;
    }
  | {
      kind: 'delta';
      table: string;
      key: readonly string[];
      /** Additive columns; a row whose first measure (its count) is 0 holds nothing and is deleted. */
      measures: readonly string[];
      /** An INSERT of the scope's rows; $1 is the sign (1 for a rebuild). */
      contribution: (scope: RollupScope) => string;
    }
  | {
      kind: 'recompute';
      table: string;
      key: readonly string[];
      measures: readonly string[];
      /** An INSERT of all rows or of the touched ones; $1 is 1. */
      contribution: (scope: RollupScope) => string;
      /** Removes the touched rows (after the additive rollups have taken their change). */
      remove: string;
      /** A query answering `whole`: recompute all rows instead. */
      wholeWhen: string;
    };

const net = (table: string, key: string[], measures: string[], rows: (scope: RollupScope) => string) => ({
  kind: 'net' as const,
  table,
  key,
  measures,
  rows,
});

// In this order: the yearly tables are rebuilt from the monthly and daily ones.
export const ROLLUP_TABLES = {
  dayProduct: net(
    'sales_by_day_product_region',
    ['sale_date', 'product_id', 'region_id'],
    PRODUCT_MEASURE_COLUMNS,
    dayProductRegionRollup,
  ),
  product: net('sales_by_month_product_region', ['month', 'product_id', 'region_id'], PRODUCT_MEASURE_COLUMNS, productRollup),
  yearProductRegion: net(
    'sales_by_year_product_region',
    ['year', 'product_id', 'region_id'],
    PRODUCT_MEASURE_COLUMNS,
    yearProductRegionRollup,
  ),
  yearProduct: net('sales_by_year_product', ['year', 'product_id'], PRODUCT_MEASURE_COLUMNS, yearProductRollup),
  throughYear: {
    kind: 'recompute',
    table: 'sales_through_year_product_region',
    contribution: throughYearRollup,
    key: ['year', 'product_id', 'region_id'],
    measures: ['quantity'],
    remove: REMOVE_TOUCHED_PAIRS,
    wholeWhen: YEARS_CHANGED,
  },
  category: net(
    'sales_by_day_category_region',
    ['sale_date', 'category_id', 'region_id'],
    ['orders', ...PRODUCT_MEASURE_COLUMNS],
    categoryRollup,
  ),
  region: net('sales_by_day_region', ['sale_date', 'region_id'], ['orders', ...MEASURE_COLUMNS], regionRollup),
  customerDays: {
    kind: 'delta',
    table: 'customers_by_day',
    contribution: customerDaysRollup,
    key: ['sale_date', 'previous_sale_date'],
    measures: ['customers'],
  },
  dayCustomer: net('sales_by_day_customer', ['sale_date', 'customer_id'], ['orders', 'revenue'], dayCustomerRollup),
  yearCustomer: {
    ...net('sales_by_year_customer', ['year', 'customer_id'], ['orders', 'revenue'], yearCustomerRollup),
    days: ['first_day', 'last_day'],
    repair: REPAIR_YEAR_DAYS,
  },
} satisfies Record<string, Rollup>;

/** The statement (and its parameters) that fills an emptied rollup from all the facts. */
export function rebuildStatement(rollup: Rollup): [string, unknown[]] {
  if (rollup.kind !== 'net') return [rollup.contribution('all'), [1]];
  const columns = [...rollup.key, ...rollup.measures, ...(rollup.days ?? [])];
  return [`INSERT INTO ${rollup.table} (${columns.join(', ')}) ${rollup.rows('all')}`, []];
}

/**
 * Puts a net rollup's change from the signed touched facts (or from a finer rollup's change) into its change
 * table, then applies it in one upsert, skipping cells whose change is nil.
 */
export function applyNetChange(rollup: Rollup & { kind: 'net' }): string {
  const { table, key, measures, days } = rollup;
  const columns = [...key, ...measures, ...(days ?? [])].join(', ');
  const change = changeTable(table);
  const changes = measures.map((m) => `c.${m} <> 0`);
  const updates = measures.map((m) => `${m} = r.${m} + excluded.${m}`);
  if (days) {
    const [first, last] = days;
    changes.push(`c.${first} < 'infinity'`);
    updates.push(`${first} = least(r.${first}, excluded.${first})`, `${last} = greatest(r.${last}, excluded.${last})`);
  }
  return `
CREATE TEMP TABLE ${change} (LIKE ${table}) ON COMMIT DROP;
INSERT INTO ${change} (${columns}) ${rollup.rows('touched')};
INSERT INTO ${table} AS r (${columns})
SELECT ${columns} FROM ${change} AS c
WHERE ${changes.join(' OR ')}
ON CONFLICT (${key.join(', ')}) DO UPDATE SET ${updates.join(', ')}`;
}

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
