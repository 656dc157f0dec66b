-- Up Migration
-- Yearly product rollups. Product questions over long ranges (a year, all time) sum far fewer rows here than
-- in the monthly table (measured at 10M lines: ~1M monthly product x region rows); a range is read as
-- whole years from these, whole months from sales_by_month_product_region, and the days at either end
-- from the order lines. The region-less table serves the questions that do not filter or group by region.
CREATE TABLE sales_by_year_product_region (
  year           date NOT NULL CHECK (extract(doy FROM year) = 1),
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
  PRIMARY KEY (year, product_id, region_id)
);

CREATE TABLE sales_by_year_product (
  year           date NOT NULL CHECK (extract(doy FROM year) = 1),
  product_id     integer NOT NULL,
  lines          integer NOT NULL,
  quantity       bigint NOT NULL,
  gross          numeric NOT NULL,
  discount       numeric NOT NULL,
  revenue        numeric NOT NULL,
  shipping       numeric NOT NULL,
  costed_revenue numeric NOT NULL,
  cost           numeric NOT NULL,
  PRIMARY KEY (year, product_id)
);

INSERT INTO sales_by_year_product_region
SELECT date_trunc('year', month)::date, product_id, region_id, sum(lines), sum(quantity), sum(gross), sum(discount),
       sum(revenue), sum(shipping), sum(costed_revenue), sum(cost)
FROM sales_by_month_product_region GROUP BY 1, product_id, region_id;

INSERT INTO sales_by_year_product
SELECT year, product_id, sum(lines), sum(quantity), sum(gross), sum(discount), sum(revenue), sum(shipping),
       sum(costed_revenue), sum(cost)
FROM sales_by_year_product_region GROUP BY year, product_id;

-- Down Migration
DROP TABLE sales_by_year_product, sales_by_year_product_region;
