-- Up Migration
-- No analysis reads gross, discounts or shipping from the product or category rollups: the revenue summary
-- reads them from sales_by_day_region only, which keeps them. Dropping them makes a load sum and write less.
ALTER TABLE sales_by_month_product_region DROP COLUMN gross, DROP COLUMN discount, DROP COLUMN shipping;
ALTER TABLE sales_by_year_product_region DROP COLUMN gross, DROP COLUMN discount, DROP COLUMN shipping;
ALTER TABLE sales_by_year_product DROP COLUMN gross, DROP COLUMN discount, DROP COLUMN shipping;
ALTER TABLE sales_by_day_category_region DROP COLUMN gross, DROP COLUMN discount, DROP COLUMN shipping;

-- Down Migration
-- Recomputed from the order lines (gross = quantity x unit price, discount = gross x discount).
ALTER TABLE sales_by_month_product_region ADD COLUMN gross numeric, ADD COLUMN discount numeric, ADD COLUMN shipping numeric;
UPDATE sales_by_month_product_region r SET gross = s.gross, discount = s.discount, shipping = s.shipping
FROM (SELECT date_trunc('month', o.sale_date)::date AS month, i.product_id, o.region_id,
             sum(i.quantity * i.unit_price) AS gross, sum(i.quantity * i.unit_price * i.discount) AS discount,
             sum(i.shipping_cost) AS shipping
      FROM order_items i JOIN orders o USING (order_id) GROUP BY 1, 2, 3) s
WHERE (r.month, r.product_id, r.region_id) = (s.month, s.product_id, s.region_id);
UPDATE sales_by_month_product_region SET gross = coalesce(gross, 0), discount = coalesce(discount, 0), shipping = coalesce(shipping, 0);
ALTER TABLE sales_by_month_product_region ALTER COLUMN gross SET NOT NULL, ALTER COLUMN discount SET NOT NULL,
  ALTER COLUMN shipping SET NOT NULL;

ALTER TABLE sales_by_year_product_region ADD COLUMN gross numeric, ADD COLUMN discount numeric, ADD COLUMN shipping numeric;
UPDATE sales_by_year_product_region r SET gross = s.gross, discount = s.discount, shipping = s.shipping
FROM (SELECT date_trunc('year', month)::date AS year, product_id, region_id,
             sum(gross) AS gross, sum(discount) AS discount, sum(shipping) AS shipping
      FROM sales_by_month_product_region GROUP BY 1, 2, 3) s
WHERE (r.year, r.product_id, r.region_id) = (s.year, s.product_id, s.region_id);
UPDATE sales_by_year_product_region SET gross = coalesce(gross, 0), discount = coalesce(discount, 0), shipping = coalesce(shipping, 0);
ALTER TABLE sales_by_year_product_region ALTER COLUMN gross SET NOT NULL, ALTER COLUMN discount SET NOT NULL,
  ALTER COLUMN shipping SET NOT NULL;

ALTER TABLE sales_by_year_product ADD COLUMN gross numeric, ADD COLUMN discount numeric, ADD COLUMN shipping numeric;
UPDATE sales_by_year_product r SET gross = s.gross, discount = s.discount, shipping = s.shipping
FROM (SELECT year, product_id, sum(gross) AS gross, sum(discount) AS discount, sum(shipping) AS shipping
      FROM sales_by_year_product_region GROUP BY 1, 2) s
WHERE (r.year, r.product_id) = (s.year, s.product_id);
UPDATE sales_by_year_product SET gross = coalesce(gross, 0), discount = coalesce(discount, 0), shipping = coalesce(shipping, 0);
ALTER TABLE sales_by_year_product ALTER COLUMN gross SET NOT NULL, ALTER COLUMN discount SET NOT NULL,
  ALTER COLUMN shipping SET NOT NULL;

ALTER TABLE sales_by_day_category_region ADD COLUMN gross numeric, ADD COLUMN discount numeric, ADD COLUMN shipping numeric;
UPDATE sales_by_day_category_region r SET gross = s.gross, discount = s.discount, shipping = s.shipping
FROM (SELECT o.sale_date, p.category_id, o.region_id,
             sum(i.quantity * i.unit_price) AS gross, sum(i.quantity * i.unit_price * i.discount) AS discount,
             sum(i.shipping_cost) AS shipping
      FROM order_items i JOIN orders o USING (order_id) JOIN products p USING (product_id) GROUP BY 1, 2, 3) s
WHERE (r.sale_date, r.category_id, r.region_id) = (s.sale_date, s.category_id, s.region_id);
UPDATE sales_by_day_category_region SET gross = coalesce(gross, 0), discount = coalesce(discount, 0), shipping = coalesce(shipping, 0);
ALTER TABLE sales_by_day_category_region ALTER COLUMN gross SET NOT NULL, ALTER COLUMN discount SET NOT NULL,
  ALTER COLUMN shipping SET NOT NULL;
