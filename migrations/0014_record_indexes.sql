-- Up Migration
-- The analytics left PostgreSQL (0012): the indexes that served their ranges of days go, as every load paid
-- to build or keep them (at 1M lines, 0.33 s for sale_date alone in a first load). Orders keep an index on
-- customer_id: a replace that removes customers has each removal checked against orders by it.
DROP INDEX orders_sale_date_idx;
DROP INDEX orders_customer_id_sale_date_idx;
CREATE INDEX orders_customer_id_idx ON orders (customer_id);

-- Down Migration
DROP INDEX orders_customer_id_idx;
CREATE INDEX orders_sale_date_idx ON orders (sale_date);
CREATE INDEX orders_customer_id_sale_date_idx ON orders (customer_id, sale_date);
