-- Up Migration
-- Rolling ranges (the last 30 days, 2023-01-08..2024-01-07) without reading the order lines: the days of a
-- range outside its whole months and years come from these daily rollups, written in date order so that a
-- range of days is a run of pages. Measured at 1M lines: the edges of a rolling year used to be a
-- sequential scan of all order lines.
-- By product and region: only what the product analyses read (lines tell a group that nets out to nothing).
CREATE TABLE sales_by_day_product_region (
  sale_date      date NOT NULL,
  product_id     integer NOT NULL,
  region_id      integer NOT NULL,
  lines          integer NOT NULL,
  quantity       bigint NOT NULL,
  revenue        numeric NOT NULL,
  costed_revenue numeric NOT NULL,
  cost           numeric NOT NULL,
  PRIMARY KEY (sale_date, product_id, region_id)
) WITH (fillfactor = 85);

-- By customer: orders and revenue, additive (a day is its own first and last order day). It replaces the
-- monthly customer rollup, whose cells were about one per order too (a customer seldom orders twice a month).
CREATE TABLE sales_by_day_customer (
  sale_date   date NOT NULL,
  customer_id integer NOT NULL,
  orders      integer NOT NULL,
  revenue     numeric NOT NULL,
  PRIMARY KEY (sale_date, customer_id)
) WITH (fillfactor = 85);

INSERT INTO sales_by_day_product_region
SELECT o.sale_date, i.product_id, o.region_id, count(*), sum(i.quantity), sum(i.revenue),
       coalesce(sum(i.revenue) FILTER (WHERE i.unit_cost IS NOT NULL), 0), coalesce(sum(i.quantity * i.unit_cost), 0)
FROM (SELECT *, quantity * unit_price - quantity * unit_price * discount AS revenue FROM order_items) AS i
JOIN orders o USING (order_id)
GROUP BY o.sale_date, i.product_id, o.region_id
ORDER BY o.sale_date;

INSERT INTO sales_by_day_customer
SELECT o.sale_date, o.customer_id, count(*), sum(t.revenue)
FROM (SELECT order_id, sum(quantity * unit_price - quantity * unit_price * discount) AS revenue FROM order_items GROUP BY order_id) AS t
JOIN orders o USING (order_id)
GROUP BY o.sale_date, o.customer_id
ORDER BY o.sale_date;

DROP TABLE sales_by_month_customer;

-- Down Migration
CREATE TABLE sales_by_month_customer (
  month       date NOT NULL CHECK (extract(day FROM month) = 1),
  customer_id integer NOT NULL,
  orders      integer NOT NULL,
  revenue     numeric NOT NULL,
  first_day   date NOT NULL,
  last_day    date NOT NULL,
  PRIMARY KEY (month, customer_id)
) WITH (fillfactor = 85);
CREATE INDEX sales_by_month_customer_customer_idx ON sales_by_month_customer (customer_id);
INSERT INTO sales_by_month_customer
SELECT date_trunc('month', sale_date)::date, customer_id, sum(orders), sum(revenue), min(sale_date), max(sale_date)
FROM sales_by_day_customer GROUP BY 1, customer_id;
DROP TABLE sales_by_day_customer, sales_by_day_product_region;
