-- Up Migration
-- An append recomputes the (customer, month) cells it touches from the orders in them, and customers_by_day
-- reads each touched customer's order days: both find them by customer and date in this index.
CREATE INDEX orders_customer_id_sale_date_idx ON orders (customer_id, sale_date);
DROP INDEX orders_customer_id_idx;

-- Down Migration
CREATE INDEX orders_customer_id_idx ON orders (customer_id);
DROP INDEX orders_customer_id_sale_date_idx;
