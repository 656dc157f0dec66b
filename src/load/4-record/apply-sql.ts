// The set-based statements that apply one staged file, in order, inside the load's transaction.
// Staging tables are temporary (dropped at commit); rows are matched on the CSV's codes.

/** The file's valid lines (the first row of a line key the file repeats is dropped once the file is read). */
export const CREATE_STAGING = `
CREATE TEMP TABLE stage_lines (
  line          integer NOT NULL,
  order_code    text NOT NULL,
  product_code  text NOT NULL,
  quantity      integer NOT NULL,
  unit_price    numeric NOT NULL,
  discount      numeric NOT NULL,
  shipping_cost numeric NOT NULL,
  unit_cost     numeric,
  attributes    jsonb
) ON COMMIT DROP;
CREATE TEMP TABLE stage_orders (code text, customer_code text, region text, payment_method text, sale_date date) ON COMMIT DROP;
CREATE TEMP TABLE stage_products (code text, name text, category text) ON COMMIT DROP;
CREATE TEMP TABLE stage_customers (code text, name text, email text, address text) ON COMMIT DROP;
`;

export const COPY_LINES = `COPY stage_lines FROM STDIN`;
export const COPY_ORDERS = `COPY stage_orders FROM STDIN`;
export const COPY_PRODUCTS = `COPY stage_products FROM STDIN`;
export const COPY_CUSTOMERS = `COPY stage_customers FROM STDIN`;

/** The staging of a file whose rows are to be read again. */
export const EMPTY_STAGING = `TRUNCATE stage_lines, stage_orders, stage_products, stage_customers`;
export const FORGET_REJECTS = `DELETE FROM refresh_rejects WHERE run_id = $1`;

/** Each line key once: the last row of the key in the file wins. */
export const DROP_SUPERSEDED_LINES = `DELETE FROM stage_lines WHERE line = ANY ($1::integer[])`;

export const ANALYZE_STAGING = `ANALYZE stage_lines; ANALYZE stage_orders; ANALYZE stage_products; ANALYZE stage_customers`;

export const UPSERT_DIMENSIONS = `
INSERT INTO regions (name)
SELECT DISTINCT region FROM stage_orders s WHERE NOT EXISTS (SELECT FROM regions r WHERE r.name = s.region);
INSERT INTO payment_methods (name)
SELECT DISTINCT payment_method FROM stage_orders s WHERE NOT EXISTS (SELECT FROM payment_methods m WHERE m.name = s.payment_method);
INSERT INTO categories (name)
SELECT DISTINCT category FROM stage_products s WHERE NOT EXISTS (SELECT FROM categories c WHERE c.name = s.category)`;

// A load writes only rows that change: products, customers and orders as an UPDATE of the rows that differ and
// an INSERT of the new ones, order lines from the changed lines only. INSERT ... ON CONFLICT DO UPDATE ... WHERE
// would lock (write) every conflicting row even when its WHERE is false, and a daily refresh of a whole export
// finds most rows unchanged. Only loads write these tables, one at a time (the load lock), so nothing can
// insert a code between the two statements.

export const UPSERT_PRODUCTS = `
UPDATE products p SET name = s.name, category_id = c.category_id
FROM stage_products s JOIN categories c ON c.name = s.category
WHERE p.code = s.code AND (p.name, p.category_id) IS DISTINCT FROM (s.name, c.category_id);
INSERT INTO products (code, name, category_id)
SELECT s.code, s.name, c.category_id FROM stage_products s JOIN categories c ON c.name = s.category
WHERE NOT EXISTS (SELECT FROM products p WHERE p.code = s.code)`;

export const UPSERT_CUSTOMERS = `
UPDATE customers c SET name = s.name, email = s.email, address = s.address
FROM stage_customers s
WHERE c.code = s.code AND (c.name, c.email, c.address) IS DISTINCT FROM (s.name, s.email, s.address);
INSERT INTO customers (code, name, email, address)
SELECT code, name, email, address FROM stage_customers s
WHERE NOT EXISTS (SELECT FROM customers c WHERE c.code = s.code)`;

/** The file's orders with the surrogate keys of what they reference. */
export const RESOLVE_INCOMING_ORDERS = `
CREATE TEMP TABLE incoming_orders ON COMMIT DROP AS
SELECT s.code, c.customer_id, r.region_id, m.payment_method_id, s.sale_date
FROM stage_orders s
JOIN customers c ON c.code = s.customer_code
JOIN regions r ON r.name = s.region
JOIN payment_methods m ON m.name = s.payment_method;
ANALYZE incoming_orders`;

/**
 * The file's line keys that are new (inserted) or whose stored values, or their order's, differ (updated),
 * with the file's values; every other staged line is unchanged and is not written.
 */
export const CLASSIFY_LINES = `
CREATE TEMP TABLE changed_lines ON COMMIT DROP AS
SELECT s.*, CASE WHEN i.order_id IS NULL THEN 'inserted' ELSE 'updated' END AS change
FROM stage_lines s
JOIN incoming_orders n ON n.code = s.order_code
LEFT JOIN orders o ON o.code = s.order_code
LEFT JOIN products p ON p.code = s.product_code
LEFT JOIN order_items i ON i.order_id = o.order_id AND i.product_id = p.product_id
WHERE i.order_id IS NULL
   OR (i.quantity, i.unit_price, i.discount, i.shipping_cost, i.unit_cost, i.attributes,
       o.customer_id, o.region_id, o.payment_method_id, o.sale_date)
      IS DISTINCT FROM (s.quantity, s.unit_price, s.discount, s.shipping_cost, s.unit_cost, s.attributes,
       n.customer_id, n.region_id, n.payment_method_id, n.sale_date);
ANALYZE changed_lines`;

export const COUNT_LINE_CHANGES = `
SELECT count(*) FILTER (WHERE change = 'inserted') AS inserted,
       count(*) FILTER (WHERE change = 'updated') AS updated,
       (SELECT count(*) FROM stage_lines) - count(*) AS unchanged
FROM changed_lines`;

export const IS_SUPERUSER = `SELECT current_setting('is_superuser') = 'on' AS superuser`;

/**
 * Only an order with a changed line can be new or have a changed head (a changed head makes all its lines
 * 'updated'); its head is written only where it differs.
 */
export const UPSERT_ORDERS = `
CREATE TEMP TABLE changed_orders ON COMMIT DROP AS
SELECT n.* FROM incoming_orders n WHERE n.code IN (SELECT order_code FROM changed_lines);
UPDATE orders o
SET customer_id = n.customer_id, region_id = n.region_id, payment_method_id = n.payment_method_id, sale_date = n.sale_date
FROM changed_orders n
WHERE o.code = n.code AND (o.customer_id, o.region_id, o.payment_method_id, o.sale_date)
  IS DISTINCT FROM (n.customer_id, n.region_id, n.payment_method_id, n.sale_date);
INSERT INTO orders (code, customer_id, region_id, payment_method_id, sale_date)
SELECT code, customer_id, region_id, payment_method_id, sale_date FROM changed_orders n
WHERE NOT EXISTS (SELECT FROM orders o WHERE o.code = n.code)`;

/** The inserted and updated lines only: each conflict is a line that differs. */
export const UPSERT_ORDER_ITEMS = `
INSERT INTO order_items (order_id, product_id, quantity, unit_price, discount, shipping_cost, unit_cost, attributes)
SELECT o.order_id, p.product_id, s.quantity, s.unit_price, s.discount, s.shipping_cost, s.unit_cost, s.attributes
FROM changed_lines s
JOIN orders o ON o.code = s.order_code
JOIN products p ON p.code = s.product_code
ON CONFLICT (order_id, product_id) DO UPDATE
SET quantity = excluded.quantity, unit_price = excluded.unit_price, discount = excluded.discount,
    shipping_cost = excluded.shipping_cost, unit_cost = excluded.unit_cost, attributes = excluded.attributes`;

// The orders a version changes, for its snapshot (version_orders): kept for the newest version only. Rows of
// the version being made are those of the one after the current; a build of the current one may still read its own.
export const FORGET_OLDER_CHANGES = `DELETE FROM version_orders WHERE version < (SELECT version FROM data_version)`;

/** After the upsert (new orders have their ids): the orders of the changed lines. */
export const RECORD_CHANGED_ORDERS = `
INSERT INTO version_orders (version, order_id)
SELECT (SELECT version + 1 FROM data_version), o.order_id FROM orders o WHERE o.code IN (SELECT order_code FROM changed_lines)`;

export const ANALYZE_CHANGED_ORDERS = `ANALYZE version_orders`;

const ABSENT_LINES = `
DELETE FROM order_items i
WHERE NOT EXISTS (
  SELECT FROM stage_lines s
  JOIN orders o ON o.code = s.order_code
  JOIN products p ON p.code = s.product_code
  WHERE o.order_id = i.order_id AND p.product_id = i.product_id)`;

/** replace: the database keeps exactly the file's content. Returns the number of order lines deleted. */
export const DELETE_ABSENT_LINES = ABSENT_LINES;

/** The same, recording the orders of the deleted lines; returns how many lines and how many new orders recorded. */
export const DELETE_ABSENT_LINES_RECORDED = `
WITH deleted AS (${ABSENT_LINES} RETURNING i.order_id),
recorded AS (
  INSERT INTO version_orders (version, order_id)
  SELECT DISTINCT (SELECT version + 1 FROM data_version), order_id FROM deleted
  ON CONFLICT DO NOTHING RETURNING order_id)
SELECT (SELECT count(*) FROM deleted)::integer AS deleted, (SELECT count(*) FROM recorded)::integer AS recorded`;

export const DELETE_ORPHANS = `
DELETE FROM orders o WHERE NOT EXISTS (SELECT FROM stage_orders s WHERE s.code = o.code);
DELETE FROM products p WHERE NOT EXISTS (SELECT FROM stage_products s WHERE s.code = p.code);
DELETE FROM customers c WHERE NOT EXISTS (SELECT FROM stage_customers s WHERE s.code = c.code);
DELETE FROM categories c WHERE NOT EXISTS (SELECT FROM products p WHERE p.category_id = c.category_id);
DELETE FROM regions r WHERE NOT EXISTS (SELECT FROM orders o WHERE o.region_id = r.region_id);
DELETE FROM payment_methods m WHERE NOT EXISTS (SELECT FROM orders o WHERE o.payment_method_id = m.payment_method_id)`;

/**
 * $1: the run this load is recorded under; $2: the file it read; $3: the orders it changed, as recorded in
 * version_orders (null: not recorded); $4: whether it only added lines.
 */
export const BUMP_DATA_VERSION = `
UPDATE data_version SET version = version + 1, loaded_at = now(), run_id = $1, source = $2, changed_orders = $3, only_added = $4
RETURNING version`;
