-- Up Migration
-- Per customer and month, and per customer and year: orders, revenue, first and last order day. Lifetime
-- value and segmentation read whole years and whole months from here and only the days at either end of a
-- range from the order lines. First and last days cannot be subtracted, so a load recomputes the cells of
-- the customers it touches instead of adding deltas.
CREATE TABLE sales_by_month_customer (
  month       date NOT NULL CHECK (extract(day FROM month) = 1),
  customer_id integer NOT NULL,
  orders      integer NOT NULL,
  revenue     numeric NOT NULL,
  first_day   date NOT NULL,
  last_day    date NOT NULL,
  PRIMARY KEY (month, customer_id)
);
CREATE INDEX sales_by_month_customer_customer_idx ON sales_by_month_customer (customer_id);

CREATE TABLE sales_by_year_customer (
  year        date NOT NULL CHECK (extract(doy FROM year) = 1),
  customer_id integer NOT NULL,
  orders      integer NOT NULL,
  revenue     numeric NOT NULL,
  first_day   date NOT NULL,
  last_day    date NOT NULL,
  PRIMARY KEY (year, customer_id)
);
CREATE INDEX sales_by_year_customer_customer_idx ON sales_by_year_customer (customer_id);

INSERT INTO sales_by_month_customer
SELECT date_trunc('month', o.sale_date)::date, o.customer_id, count(DISTINCT o.order_id),
       sum(i.quantity * i.unit_price - i.quantity * i.unit_price * i.discount), min(o.sale_date), max(o.sale_date)
FROM order_items i JOIN orders o USING (order_id)
GROUP BY 1, o.customer_id;

INSERT INTO sales_by_year_customer
SELECT date_trunc('year', month)::date, customer_id, sum(orders), sum(revenue), min(first_day), max(last_day)
FROM sales_by_month_customer GROUP BY 1, customer_id;

-- Down Migration
DROP TABLE sales_by_year_customer, sales_by_month_customer;
