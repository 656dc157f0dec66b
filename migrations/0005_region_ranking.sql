-- Up Migration
-- Top products per region over whole calendar years without summing every product x region pair: a single
-- year reads sales_by_year_product_region in units order, and a range of years from the first year of the
-- data reads the running totals below in units order (both through the indexes, a few rows per region).
CREATE INDEX sales_by_year_product_region_units_idx ON sales_by_year_product_region (year, region_id, quantity DESC);

-- Units and revenue per product and region from the first year of the data through `year` (a row for every
-- year from the pair's first sale on, also in years without sales).
CREATE TABLE sales_through_year_product_region (
  year       date NOT NULL CHECK (extract(doy FROM year) = 1),
  product_id integer NOT NULL,
  region_id  integer NOT NULL,
  quantity   bigint NOT NULL,
  revenue    numeric NOT NULL,
  PRIMARY KEY (year, product_id, region_id)
);
CREATE INDEX sales_through_year_product_region_units_idx ON sales_through_year_product_region (year, region_id, quantity DESC);

INSERT INTO sales_through_year_product_region (year, product_id, region_id, quantity, revenue)
SELECT y.year, p.product_id, p.region_id,
       sum(coalesce(s.quantity, 0)) OVER pair, sum(coalesce(s.revenue, 0)) OVER pair
FROM (SELECT DISTINCT year FROM sales_by_year_product_region) y
JOIN (SELECT product_id, region_id, min(year) AS first_year FROM sales_by_year_product_region GROUP BY 1, 2) p
  ON y.year >= p.first_year
LEFT JOIN sales_by_year_product_region s ON s.year = y.year AND s.product_id = p.product_id AND s.region_id = p.region_id
WINDOW pair AS (PARTITION BY p.product_id, p.region_id ORDER BY y.year);

-- Down Migration
DROP TABLE sales_through_year_product_region;
DROP INDEX sales_by_year_product_region_units_idx;
