-- Up Migration
-- The aggregation layer: maintained by every load in the load's transaction, read by the analytics.
-- Derived data, rebuilt from orders and order_items, so no foreign keys (they would only slow loads).
-- Measures: lines and quantity; gross = sum(quantity * unit_price); discount = sum(gross * discount);
-- revenue = gross - discount, exact; shipping on its own; cost and costed_revenue over lines with a known unit cost.

-- By product: revenue by product, top-N products, profit margin. Category comes from the product's current row.
-- Monthly: a daily product grain is nearly as large as order_items (measured: 932k rows for 1M lines);
-- the days of a partial month at either end of a range are read from order_items by sale date.
CREATE TABLE sales_by_month_product_region (
  month          date NOT NULL CHECK (extract(day FROM month) = 1),
  product_id     integer NOT NULL,
  region_id      integer NOT NULL,
  lines          integer NOT NULL,
  quantity       bigint NOT NULL,
  gross          numeric NOT NULL,
  discount       numeric NOT NULL,
  revenue        numeric NOT NULL,
  shipping       numeric NOT NULL,
  costed_revenue numeric NOT NULL,
  cost           numeric NOT NULL,
  PRIMARY KEY (month, product_id, region_id)
);

-- By category: orders = orders with at least one line in the category (additive over days and regions,
-- since an order has one day and one region; not over categories).
CREATE TABLE sales_by_day_category_region (
  sale_date      date NOT NULL,
  category_id    integer NOT NULL,
  region_id      integer NOT NULL,
  orders         integer NOT NULL,
  lines          integer NOT NULL,
  quantity       bigint NOT NULL,
  gross          numeric NOT NULL,
  discount       numeric NOT NULL,
  revenue        numeric NOT NULL,
  shipping       numeric NOT NULL,
  costed_revenue numeric NOT NULL,
  cost           numeric NOT NULL,
  PRIMARY KEY (sale_date, category_id, region_id)
);

-- Totals and trends: the smallest table, with exact order counts.
CREATE TABLE sales_by_day_region (
  sale_date      date NOT NULL,
  region_id      integer NOT NULL,
  orders         integer NOT NULL,
  lines          integer NOT NULL,
  quantity       bigint NOT NULL,
  gross          numeric NOT NULL,
  discount       numeric NOT NULL,
  revenue        numeric NOT NULL,
  shipping       numeric NOT NULL,
  costed_revenue numeric NOT NULL,
  cost           numeric NOT NULL,
  PRIMARY KEY (sale_date, region_id)
);

-- Exact distinct customers over any range: a customer counts in [from, to] on the first day in the range
-- it ordered, i.e. the day whose previous order day (for that customer) is before `from`.
-- previous_sale_date is '-infinity' for a customer's first order day ever.
CREATE TABLE customers_by_day (
  sale_date          date NOT NULL,
  previous_sale_date date NOT NULL,
  customers          integer NOT NULL,
  PRIMARY KEY (sale_date, previous_sale_date),
  CHECK (previous_sale_date < sale_date)
);

-- Down Migration
DROP TABLE customers_by_day, sales_by_day_region, sales_by_day_category_region, sales_by_month_product_region;
